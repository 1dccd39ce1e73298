from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("API en wijzigingsfeed")
    # The database's protections (infra/dbroles.py), which the tests check.
    append_only = ("ConsentChange", "FeedRead")

    def ready(self):
        # api depends on the apps below it, never the reverse: it listens to them.
        from oauth2_provider.signals import app_authorized

        from consent import signals as consent
        from ledger import signals as ledger
        from lifecycle import signals as lifecycle

        from . import (
            authentication,  # noqa: F401 (registers its OpenAPI scheme)
            changes,
            linked_apps,
            oauth,
        )

        app_authorized.connect(linked_apps.on_app_authorized, dispatch_uid="api.linked_apps")
        consent.history_entries.connect(linked_apps.history_entries)
        consent.export_sections.connect(linked_apps.export_sections)

        consent.event_recorded.connect(changes.record_event)
        lifecycle.customer_closed.connect(oauth.revoke_customer_tokens)
        lifecycle.proof_removed.connect(changes.remove_customer_changes)
        lifecycle.proof_removed.connect(linked_apps.remove_links)
        ledger.checkpointed.connect(changes.feed_at_checkpoint)
        ledger.restoring.connect(changes.feed_after_restore)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("API en wijzigingsfeed")

    def ready(self):
        # api depends on consent, never the reverse: subscribe to its registry.
        from consent.hooks import on_customer_closed, on_event_recorded, on_proof_removed

        from . import authentication  # noqa: F401 (registers its OpenAPI scheme)
        from .changes import record_event, remove_customer_changes
        from .oauth import revoke_customer_tokens

        on_event_recorded(record_event)
        on_customer_closed(revoke_customer_tokens)
        on_proof_removed(remove_customer_changes)

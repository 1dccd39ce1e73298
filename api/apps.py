from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("API en wijzigingsfeed")

    def ready(self):
        # api depends on consent, never the reverse: subscribe to its registry.
        from consent import hooks

        from . import authentication  # noqa: F401 (registers its OpenAPI scheme)
        from .changes import record_event, remove_customer_changes
        from .oauth import revoke_customer_tokens

        hooks.EVENT_RECORDED.register(record_event)
        hooks.CUSTOMER_CLOSED.register(revoke_customer_tokens)
        hooks.PROOF_REMOVED.register(remove_customer_changes)

        from ledger.signals import checkpointed, restored

        from .changes import feed_after_restore, feed_at_checkpoint

        checkpointed.connect(feed_at_checkpoint, dispatch_uid="api.feed_at_checkpoint")
        restored.connect(feed_after_restore, dispatch_uid="api.feed_after_restore")

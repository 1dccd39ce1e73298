from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("API en wijzigingsfeed")

    def ready(self):
        # api depends on consent, never the reverse: subscribe to its registry.
        from consent.hooks import on_event_recorded

        from . import authentication  # noqa: F401 (registers its OpenAPI scheme)
        from .changes import record_event

        on_event_recorded(record_event)

from django.apps import AppConfig


class InfraConfig(AppConfig):
    """No models: commands (`migrate` as the owner, `backup`) and shared code."""

    name = "infra"
    verbose_name = "Infrastructure"

    def ready(self):
        from . import sessions  # noqa: F401  (connects the login clock)

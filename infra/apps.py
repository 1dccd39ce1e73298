from django.apps import AppConfig


class InfraConfig(AppConfig):
    """No models: commands (`migrate` as the owner, `backup`), shared code, and one
    migration, the shared cache's table (no domain: anything may use the cache)."""

    name = "infra"
    verbose_name = "Infrastructure"

    def ready(self):
        from . import sessions  # noqa: F401  (connects the login clock)
        from .precompiled import keep_long_statements_converted

        keep_long_statements_converted()

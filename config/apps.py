from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """Django's admin app with our staff site (config/admin.py) as `admin.site`."""

    default_site = "config.admin.StaffAdminSite"

    def ready(self):
        super().ready()
        from config import sessions  # noqa: F401  (connects the login clock)

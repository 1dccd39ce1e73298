from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """Django's admin app with our staff site (config/admin.py) as `admin.site`."""

    default_site = "config.admin.StaffAdminSite"

from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """Django's admin app with our staff site (config/admin.py) as `admin.site`."""

    default_site = "config.admin.StaffAdminSite"

    def ready(self):
        super().ready()
        from django.contrib import admin

        from config.admin_names import name_other_apps, name_permissions

        name_other_apps()
        name_permissions(admin.site)

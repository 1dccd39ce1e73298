"""The privacy officer's view of the API: the change feed and who read it (read-only for
everyone; the database refuses changes anyway). Clients and tokens are django-oauth-
toolkit's own admin pages: register a system (client credentials) or the app
(authorization code, public); revoke tokens with its "revoke" action."""

from django.contrib import admin

from consent.admin import ReadOnlyAdmin

from .models import ConsentChange, FeedRead


@admin.register(FeedRead)
class FeedReadAdmin(ReadOnlyAdmin):
    list_display = (
        "read_at",
        "client_name",
        "client_id",
        "endpoint",
        "purpose",
        "after_id",
        "last_id",
        "rows",
    )
    list_filter = ("endpoint", "client_name")
    search_fields = ("=client_id", "client_name")
    date_hierarchy = "read_at"
    show_full_result_count = False


@admin.register(ConsentChange)
class ConsentChangeAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "customer",
        "purpose",
        "kind",
        "may_use",
        "effective_at",
        "recorded_at",
        "valid_until",
    )
    list_filter = ("kind", "may_use", "purpose")
    search_fields = ("=customer__customer_number",)
    list_select_related = ("customer", "purpose")
    show_full_result_count = False

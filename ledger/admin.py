"""The ledger in the admin: read-only for everyone, superusers included. The admin offers
no add, change or delete (and the database would refuse them anyway)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import ConsentEvent


class NoChanges:
    """Nobody adds, changes or deletes here through the admin, superusers included: the
    rows are written by the domain's own functions (and the database refuses the rest)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(NoChanges, admin.ModelAdmin):  # type: ignore[type-arg]
    pass


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyAdmin):
    list_display = (
        "occurred_at",
        "customer",
        "purpose",
        "version",
        "action",
        "channel",
        "actor",
        "sequence",
    )
    list_filter = ("purpose", "action", "channel")
    search_fields = ("=customer__customer_number",)
    search_help_text = _("Zoek op klantnummer.")
    list_select_related = ("customer", "purpose", "purpose_version", "actor")
    date_hierarchy = "occurred_at"
    ordering = ("-occurred_at",)
    show_full_result_count = False

    @admin.display(description=_("versie"), ordering="purpose_version__version")
    def version(self, event: ConsentEvent) -> object:
        return event.purpose_version.version if event.purpose_version else "—"

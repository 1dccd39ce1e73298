"""The ledger in the admin: read-only for everyone, superusers included. The admin offers
no add, change or delete (and the database would refuse them anyway)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from infra.languages import in_language

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


def purpose_titles() -> dict[int, str]:
    """Each purpose's title in the reader's language, from its newest version (a handful
    of rows): staff read purposes by name, never by code."""
    versions = ConsentEvent._meta.get_field("purpose_version").related_model
    newest = versions._default_manager.order_by("purpose_id", "-version").distinct("purpose_id")
    return {version.purpose_id: str(in_language(version, "title")) for version in newest}  # type: ignore[attr-defined]


class PurposeFilter(admin.SimpleListFilter):
    """The purposes by their title (the `purpose` field's own filter lists codes)."""

    title = _("doel")
    parameter_name = "purpose__id__exact"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        titles = purpose_titles()
        return sorted(((str(pk), title) for pk, title in titles.items()), key=lambda t: t[1])

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        return queryset.filter(purpose_id=self.value()) if self.value() else queryset


class PurposeByTitle:
    """A row's purpose as its title: the title of the version the row names, else the
    purpose's newest title. In lists and on the row's page (instead of the code)."""

    exclude: Any = ("purpose",)

    @admin.display(description=_("doel"), ordering="purpose__code")
    def purpose_title(self, row: Any) -> str:
        if hasattr(row, "_purpose_title_nl"):  # annotated by the list's queryset
            return str(in_language(row, "_purpose_title") or "—")
        version = getattr(row, "purpose_version", None)
        if version is not None:
            return str(in_language(version, "title"))
        if row.purpose_id is None:
            return "—"
        return purpose_titles().get(row.purpose_id, "—")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [*super().get_readonly_fields(request, obj), "purpose_title"]  # type: ignore[misc]


@admin.register(ConsentEvent)
class ConsentEventAdmin(PurposeByTitle, ReadOnlyAdmin):
    list_display = (
        "occurred_at",
        "customer",
        "purpose_title",
        "version",
        "action",
        "channel",
        "actor",
        "sequence",
    )
    list_filter = (PurposeFilter, "action", "channel")
    search_fields = ("=customer__customer_number",)
    search_help_text = _("Zoek op klantnummer.")
    list_select_related = ("customer", "purpose", "purpose_version", "actor")
    date_hierarchy = "occurred_at"
    ordering = ("-occurred_at",)
    show_full_result_count = False

    @admin.display(description=_("versie"), ordering="purpose_version__version")
    def version(self, event: ConsentEvent) -> object:
        return event.purpose_version.version if event.purpose_version else "—"

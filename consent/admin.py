"""Staff views of consent. The ledger is read-only for everyone, superusers included:
the admin offers no add, change or delete (and the database would refuse them anyway).
Privacy officers publish new versions of a purpose's texts and download the Art. 30
record; nobody edits a published text."""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .catalogue import VERSION_FIELDS
from .models import ConsentEvent, ConsentState, Purpose, PurposeVersion
from .records import processing_record, processing_record_csv
from .services import ChoiceError, publish_version


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
    list_select_related = ("customer", "purpose", "purpose_version", "actor")
    date_hierarchy = "occurred_at"
    ordering = ("-occurred_at",)
    show_full_result_count = False

    @admin.display(description=_("versie"), ordering="purpose_version__version")
    def version(self, event):
        return event.purpose_version.version if event.purpose_version else "—"


@admin.register(ConsentState)
class ConsentStateAdmin(ReadOnlyAdmin):
    list_display = ("customer", "purpose", "state", "version", "changed_at")
    list_filter = ("purpose", "state")
    search_fields = ("=customer__customer_number",)
    list_select_related = ("customer", "purpose", "purpose_version")
    show_full_result_count = False

    @admin.display(description=_("versie"))
    def version(self, state):
        return state.purpose_version.version if state.purpose_version else "—"


class VersionInline(admin.TabularInline):
    model = PurposeVersion
    fields = ("version", "material", "published_at", "published_by", "title_nl", "title_en")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Purpose)
class PurposeAdmin(ReadOnlyAdmin):
    list_display = ("code", "legal_basis", "required", "direct_marketing", "dpia_reference")
    inlines = [VersionInline]

    def get_urls(self):
        urls = [
            path(
                "record-of-processing.<str:fmt>",
                self.admin_site.admin_view(self.processing_record_view),
                name="consent_processing_record",
            ),
        ]
        return urls + super().get_urls()

    def processing_record_view(self, request, fmt):
        """GDPR Art. 30: the record of processing activities, as CSV or JSON."""
        if not request.user.has_perm("consent.view_privacy_overview"):
            raise PermissionDenied
        if fmt == "csv":
            response = HttpResponse(processing_record_csv(), content_type="text/csv; charset=utf-8")
        elif fmt == "json":
            body = json.dumps({"processing_activities": processing_record()}, indent=2)
            response = HttpResponse(body, content_type="application/json")
        else:
            raise PermissionDenied
        response["Content-Disposition"] = f'attachment; filename="record-of-processing.{fmt}"'
        return response


class PublishVersionForm(forms.ModelForm):
    class Meta:
        model = PurposeVersion
        fields = ("purpose", "material", *VERSION_FIELDS)
        help_texts = {
            "material": _(
                "Materieel: de klant moet opnieuw kiezen. Alle eerdere toestemmingen voor dit "
                "doel tellen direct niet meer, en open aanbiedingen die erop steunden worden "
                "ingetrokken."
            ),
        }


@admin.register(PurposeVersion)
class PurposeVersionAdmin(admin.ModelAdmin):
    """Publishing only: a version is added once and never changed or deleted."""

    form = PublishVersionForm
    list_display = ("purpose", "version", "material", "published_at", "published_by", "title_nl")
    list_filter = ("purpose", "material")
    list_select_related = ("purpose", "published_by")
    readonly_fields = ("version", "published_at", "published_by")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_changeform_initial_data(self, request):
        """Start from the current texts of the purpose named in ?purpose=<id>."""
        initial = super().get_changeform_initial_data(request)
        latest = (
            PurposeVersion.objects.filter(purpose_id=initial.get("purpose"))
            .order_by("-version")
            .first()
        )
        if latest:
            initial.update({name: getattr(latest, name) for name in VERSION_FIELDS})
        return initial

    def save_model(self, request, obj, form, change):
        try:
            published = publish_version(
                purpose_code=obj.purpose.code,
                material=obj.material,
                texts={name: getattr(obj, name) for name in VERSION_FIELDS},
                actor=request.user,
                at=timezone.now(),
            )
        except ChoiceError as error:
            raise PermissionDenied(str(error)) from error
        obj.pk, obj.version = published.version.pk, published.version.version
        if obj.material:
            renewals = ngettext(
                "%(n)d toestemming moet opnieuw worden gegeven.",
                "%(n)d toestemmingen moeten opnieuw worden gegeven.",
                published.consents_needing_renewal,
            ) % {"n": published.consents_needing_renewal}
            retracted = ngettext(
                "%(n)d open aanbieding is ingetrokken.",
                "%(n)d open aanbiedingen zijn ingetrokken.",
                published.effects.get("offers_retracted", 0),
            ) % {"n": published.effects.get("offers_retracted", 0)}
            self.message_user(request, f"{renewals} {retracted}", messages.WARNING)

"""Consent in the admin: lists and detail pages. The current state is read-only for
everyone, superusers included, like the ledger it mirrors (`ledger.admin`).

The staff's workflows are views of their own (`consent.staff_views`): privacy officers
publish new versions of a purpose's texts (`publishing`; nobody edits a published text)
and download the Art. 30 record (`downloads`); the contact centre (*Klantenservice*)
finds a customer by number, sees one page about them (`consent.staff`), downloads their
receipts and records what a customer who phones or visits a branch asks (`acting`).
"""

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from infra.languages import in_language
from ledger.admin import NoChanges, PurposeByTitle, PurposeFilter, ReadOnlyAdmin

from .catalogue import VERSION_FIELDS
from .models import ConsentState, Customer, Purpose, PurposeVersion
from .publishing import newest, with_newest_titles
from .staff import PERMISSION, customer_file


@admin.register(ConsentState)
class ConsentStateAdmin(PurposeByTitle, ReadOnlyAdmin):
    list_display = ("customer", "purpose_title", "state", "version", "changed_at")
    list_filter = (PurposeFilter, "state")
    search_fields = ("=customer__customer_number",)
    search_help_text = _("Zoek op klantnummer.")
    list_select_related = ("customer", "purpose", "purpose_version")
    show_full_result_count = False

    @admin.display(description=_("versie"))
    def version(self, state):
        return state.purpose_version.version if state.purpose_version else "—"


class VersionInline(NoChanges, admin.TabularInline):
    model = PurposeVersion
    fields = ("version", "material", "published_at", "published_by", "title_nl", "title_en")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Purpose)
class PurposeAdmin(ReadOnlyAdmin):
    list_display = ("title", "code", "legal_basis", "kind", "marketing", "newest_version")
    list_display_links = ("title", "code")
    inlines = [VersionInline]

    def get_queryset(self, request):
        return with_newest_titles(super().get_queryset(request)).annotate(
            _newest_version=newest("version")
        )

    @admin.display(description=_("titel"))
    def title(self, purpose):
        return in_language(purpose, "_title")

    # A plain word, not Django's red cross: an optional purpose is not an error.
    @admin.display(description=_("soort"), ordering="required")
    def kind(self, purpose):
        return _("nodig voor de rekening") if purpose.required else _("keuze van de klant")

    @admin.display(description=_("direct marketing"), ordering="direct_marketing")
    def marketing(self, purpose):
        return _("ja") if purpose.direct_marketing else _("nee")

    @admin.display(description=_("nieuwste versie"))
    def newest_version(self, purpose):
        return purpose._newest_version or "—"


@admin.register(PurposeVersion)
class PurposeVersionAdmin(admin.ModelAdmin):
    """Published versions, read-only. A version is added once, by publishing it
    (`consent.staff_views.publishing`, which answers this model's add URL), and never
    changed or deleted."""

    list_display = ("title", "version", "material", "published_at", "published_by")
    list_filter = (PurposeFilter, "material")
    list_select_related = ("purpose", "published_by")
    fields = ("purpose", "version", "material", "published_at", "published_by", *VERSION_FIELDS)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("titel"), ordering="title_nl")
    def title(self, version):
        return in_language(version, "title")


# --- The contact centre: one customer, by number ----------------------------------------------
class CustomerChangeList(ChangeList):
    def url_for_result(self, result):
        # Customers are found and linked by their number, never by an internal id.
        return reverse("admin:consent_customer_change", args=[result.customer_number])


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    """The contact centre's customer view: search by number, then one page (read-only),
    from which a *Klantenservice* employee records what the customer asks. No bulk
    actions: staff record one choice at a time, exactly what the customer asked."""

    list_display = ("customer_number", "first_name", "last_name")
    search_fields = ("=customer_number",)
    search_help_text = _("Zoek op klantnummer.")
    actions = None
    show_full_result_count = False

    def get_changelist(self, request, **kwargs):
        return CustomerChangeList

    def get_search_results(self, request, queryset, search_term):
        # Nothing until a number is given: staff look a customer up, they do not browse.
        number = search_term.strip()
        if not number:
            return queryset.none(), False
        return queryset.filter(customer_number=number), False

    def changelist_view(self, request, extra_context=None):
        number = request.GET.get("q", "").strip()
        if number and self.has_view_permission(request):
            found = Customer.objects.filter(customer_number=number).first()
            if found is not None:
                return HttpResponseRedirect(
                    reverse("admin:consent_customer_change", args=[found.customer_number])
                )
        return super().changelist_view(request, extra_context)

    def get_object(self, request, object_id, from_field=None):
        return self.get_queryset(request).filter(customer_number=object_id).first()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The one page about the customer (`consent.staff.customer_file`), with links to
        act for them (`consent.staff_views.acting`) and to each event's receipt."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        customer = get_object_or_404(Customer, customer_number=object_id)
        page = customer_file(customer=customer, at=timezone.now(), language=get_language())
        context = {
            **self.admin_site.each_context(request),
            "title": _("Klant %(number)s") % {"number": customer.customer_number},
            "opts": self.model._meta,
            "original": customer,
            "file": page,
            "may_act": request.user.has_perm(PERMISSION),
        }
        return TemplateResponse(request, "admin/consent/customer/customer_file.html", context)

    def history_view(self, request, object_id, extra_context=None):
        raise Http404  # the page itself shows the history, from the ledger

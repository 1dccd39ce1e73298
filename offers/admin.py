"""The staff side of offers (DESIGN §9): the review queue and the privacy overview.

Reviewers see what the customer will see (explanation, evidence summary) and what it
rests on (rule, run, the consent events and their versions) — never transactions,
balances, holdings or free text. The banking models are deliberately not registered
here at all, so no staff member can reach them through the admin, by menu or by URL.

An offer's fields are read-only for everyone; the only changes are the review actions,
which call `offers.review` (one call each) and are allowed by the `review_offer`
permission, i.e. to the `Offer reviewers` group.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from consent.admin import ReadOnlyAdmin

from . import review
from .models import Offer, OfferRun, Product
from .overview import privacy_overview
from .rules import RULES


@admin.register(Product)
class ProductAdmin(ReadOnlyAdmin):
    list_display = ("code", "name_nl", "name_en")


@admin.register(OfferRun)
class OfferRunAdmin(ReadOnlyAdmin):
    list_display = ("pk", "as_of", "status", "started_at", "finished_at", "expired", "retracted")
    list_filter = ("status",)
    fields = (*list_display[1:], "rules", "counts")


class RuleFilter(admin.SimpleListFilter):
    """The registered rules, from code: no DISTINCT over the whole offers table."""

    title = _("regel")
    parameter_name = "rule"

    def lookups(self, request, model_admin):
        return [(rule.code, rule.code) for rule in RULES]

    def queryset(self, request, queryset):
        return queryset.filter(rule=self.value()) if self.value() else queryset


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reden"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Verplicht. Wordt bij het aanbod bewaard; de klant ziet het niet."),
    )


@admin.register(Offer)
class OfferAdmin(ReadOnlyAdmin):
    list_display = (
        "pk",
        "status",
        "product",
        "rule",
        "run",
        "customer_number",
        "created_at",
        "valid_until",
        "reviewed_by",
    )
    list_filter = ("status", "product", RuleFilter, "run")
    search_fields = ("=customer__customer_number",)
    list_select_related = ("product", "run", "customer", "reviewed_by")
    ordering = ("-created_at", "-pk")
    show_full_result_count = False
    actions = ("approve_selected", "reject_selected")
    # No free text and no banking data: what the customer will read, and what it rests on.
    fields = (
        "status",
        "customer_number",
        "product",
        "rule",
        "run",
        "as_of",
        "created_at",
        "valid_until",
        "explanation_nl",
        "explanation_en",
        "staff_evidence_nl",
        "staff_evidence_en",
        "consents_relied_on",
        "status_changed_at",
        "reviewed_by",
        "reviewed_at",
        "rejection_reason",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("customer", "product", "run")

    def has_review_permission(self, request):
        return request.user.has_perm("offers.review_offer")

    @admin.display(description=_("klantnummer"), ordering="customer__customer_number")
    def customer_number(self, offer):
        return offer.customer.customer_number

    @admin.display(description=_("toestemmingen waarop het steunt"))
    def consents_relied_on(self, offer):
        events = offer.relied_on.select_related("purpose", "purpose_version").order_by("pk")
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} — {} v{} ({}), {} #{}</li>",
                (
                    (
                        event.purpose.code,
                        event.get_action_display(),
                        event.purpose_version.version,
                        _("materieel") if event.purpose_version.material else _("niet materieel"),
                        timezone.localtime(event.occurred_at).strftime("%Y-%m-%d %H:%M"),
                        event.pk,
                    )
                    for event in events
                ),
            ),
        )

    @admin.action(
        permissions=["review"],
        description=_("Goedkeuren (toestemming wordt opnieuw gecontroleerd)"),
    )
    def approve_selected(self, request, queryset):
        result = review.approve(
            offer_ids=queryset.values_list("pk", flat=True),
            reviewer=request.user,
            at=timezone.now(),
        )
        self.message_user(
            request,
            ngettext("%(n)d aanbod goedgekeurd.", "%(n)d aanbiedingen goedgekeurd.", result.done)
            % {"n": result.done},
            messages.SUCCESS,
        )
        if result.retracted:
            self.message_user(
                request,
                ngettext(
                    "%(n)d aanbod is ingetrokken in plaats van goedgekeurd: de toestemming"
                    " waarop het steunde geldt niet meer.",
                    "%(n)d aanbiedingen zijn ingetrokken in plaats van goedgekeurd: de"
                    " toestemming waarop ze steunden geldt niet meer.",
                    result.retracted,
                )
                % {"n": result.retracted},
                messages.WARNING,
            )
        self._tell_expired_and_skipped(request, result)

    @admin.action(permissions=["review"], description=_("Afwijzen (met reden)"))
    def reject_selected(self, request, queryset):
        """An intermediate page asks for the reason; without one nothing changes."""
        form = RejectForm(request.POST if "post" in request.POST else None)
        if form.is_valid():
            result = review.reject(
                offer_ids=queryset.values_list("pk", flat=True),
                reviewer=request.user,
                reason=form.cleaned_data["reason"],
                at=timezone.now(),
            )
            self.message_user(
                request,
                ngettext("%(n)d aanbod afgewezen.", "%(n)d aanbiedingen afgewezen.", result.done)
                % {"n": result.done},
                messages.SUCCESS,
            )
            self._tell_expired_and_skipped(request, result)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Aanbiedingen afwijzen"),
            "opts": self.model._meta,
            "queryset": queryset.select_related("product", "customer"),
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/offers/offer/reject.html", context)

    def _tell_expired_and_skipped(self, request, result):
        if result.expired:
            self.message_user(
                request,
                ngettext(
                    "%(n)d aanbod was al verlopen en is als verlopen gemarkeerd.",
                    "%(n)d aanbiedingen waren al verlopen en zijn als verlopen gemarkeerd.",
                    result.expired,
                )
                % {"n": result.expired},
                messages.WARNING,
            )
        if result.skipped:
            self.message_user(
                request,
                ngettext(
                    "%(n)d aanbod wachtte niet (meer) op beoordeling en is niet veranderd.",
                    "%(n)d aanbiedingen wachtten niet (meer) op beoordeling en zijn niet"
                    " veranderd.",
                    result.skipped,
                )
                % {"n": result.skipped},
                messages.WARNING,
            )

    # --- The privacy officer's overview ------------------------------------------------
    def get_urls(self):
        urls = [
            path(
                "overview/",
                self.admin_site.admin_view(self.overview_view),
                name="offers_privacy_overview",
            ),
        ]
        return urls + super().get_urls()

    def overview_view(self, request):
        if not request.user.has_perm("consent.view_privacy_overview"):
            raise PermissionDenied
        overview = privacy_overview(at=timezone.now(), language=request.LANGUAGE_CODE, weeks=26)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Privacyoverzicht"),
            "opts": self.model._meta,
            "overview": overview,
            "record_csv": reverse("admin:consent_processing_record", args=["csv"]),
            "record_json": reverse("admin:consent_processing_record", args=["json"]),
        }
        return TemplateResponse(request, "admin/offers/overview.html", context)

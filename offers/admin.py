"""The staff side of offers (docs/architecture.md): the review queue, the contact centre's follow-up
list and the privacy overview.

Reviewers see what the customer will see (explanation) and the banded evidence it rests
on (never the customer's own figures), the consent events and their versions, and the
offer's history — never transactions, balances, holdings or free text. The banking
models are deliberately not registered here at all, so no staff member can reach them
through the admin, by menu or by URL.

An offer's fields are read-only for everyone; the only changes are the review actions
(bulk in the list, *Goedkeuren*/*Afwijzen* on the detail page, which then moves on to the
next proposed offer) and the follow-up of interested customers. Each calls one domain
function (`offers.review`, `offers.transitions`), which writes the change's event.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import get_language, gettext, ngettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from banking.models import Product
from consent.admin import ReadOnlyAdmin

from . import review, tasks, transitions
from .engine import RunInProgress, RunUnfinished, run_progress, sum_counts
from .models import (
    OPEN_RUN_STATUSES,
    ChunkStatus,
    FollowUp,
    FollowUpOutcome,
    FollowUpStatus,
    Offer,
    OfferRun,
    OfferStatus,
    RunStatus,
)
from .overview import privacy_overview
from .rules import RULES
from .staff import history, waiting_days

KLANTENSERVICE = "Klantenservice"


@admin.register(Product)
class ProductAdmin(ReadOnlyAdmin):
    list_display = ("code", "name_nl", "name_en")


# --- Engine runs: start one, watch it --------------------------------------------------------
class StartRunForm(forms.Form):
    as_of = forms.DateField(
        label=_("Peildatum"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_(
            "De gegevens tot en met deze dag worden gelezen; toestemming telt zoals die"
            " geldt op het moment dat de run begint."
        ),
    )
    rules = forms.MultipleChoiceField(
        label=_("Regels"),
        choices=[(rule.code, rule.code) for rule in RULES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Geen keuze: alle regels."),
    )


@admin.register(OfferRun)
class OfferRunAdmin(ReadOnlyAdmin):
    """Runs of the engine. Staff with `start_offerrun` (reviewers, privacy officers) start a
    run for a date, or resume an unfinished one, on the workers; every run's page shows its
    chunks as they are done."""

    list_display = (
        "started_at",
        "as_of",
        "status",
        "chunks_done",
        "started_by",
        "finished_at",
        "expired",
        "retracted",
    )
    list_filter = ("status",)
    list_select_related = ("started_by",)
    fields = (
        "as_of",
        "status",
        "started_at",
        "finished_at",
        "started_by",
        "expired",
        "retracted",
        "rule_list",
        "counts_table",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                chunk_total=Count("chunks"),
                chunk_done=Count("chunks", filter=Q(chunks__status=ChunkStatus.DONE)),
            )
        )

    @admin.display(description=_("delen klaar"))
    def chunks_done(self, run):
        return f"{run.chunk_done}/{run.chunk_total}"

    @admin.display(description=_("regels"))
    def rule_list(self, run):
        return ", ".join(run.rules)

    @admin.display(description=_("aantallen per regel"))
    def counts_table(self, run):
        # While the run is open: what its chunks that are done have counted so far.
        counts = run.counts
        if run.is_open:
            done = run.chunks.filter(status=ChunkStatus.DONE).values_list("counts", flat=True)
            counts = sum_counts(run.rules, done)
        names = (
            ("considered", _("bekeken")),
            ("candidates", _("regel trof")),
            ("offered", _("voorgesteld")),
            ("already_offered", _("al voorgesteld")),
            ("suppressed_by_policy", _("tegengehouden door het contactbeleid")),
        )
        return format_html(
            '<table class="run-counts"><thead><tr><th scope="col">{}</th>{}</tr></thead>'
            "<tbody>{}</tbody></table>",
            _("regel"),
            format_html_join(
                "", '<th scope="col" class="number">{}</th>', ((title,) for name, title in names)
            ),
            format_html_join(
                "",
                '<tr><th scope="row">{}</th>{}</tr>',
                (
                    (
                        code,
                        format_html_join(
                            "",
                            '<td class="number">{}</td>',
                            ((numbers.get(name, 0),) for name, title in names),
                        ),
                    )
                    for code, numbers in counts.items()
                ),
            ),
        )

    def may_start(self, request):
        return request.user.has_perm("offers.start_offerrun")

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("start/", view(self.start_view), name="offers_offerrun_start"),
            path("<int:run_id>/resume/", view(self.resume_view), name="offers_offerrun_resume"),
            path(
                "<int:run_id>/progress/", view(self.progress_view), name="offers_offerrun_progress"
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {**(extra_context or {}), "may_start": self.may_start(request)}
        return super().changelist_view(request, extra)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {**(extra_context or {})}
        run = self.get_object(request, object_id)
        if run is not None:
            extra.update(
                {
                    "progress": run_progress(run_id=run.pk),
                    "may_resume": self.may_start(request) and run.status == RunStatus.FAILED,
                }
            )
        return super().change_view(request, object_id, form_url, extra)

    def progress_view(self, request, run_id):
        """The progress panel alone, which the run's page fetches again while it is open."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        get_object_or_404(OfferRun, pk=run_id)
        return TemplateResponse(
            request,
            "admin/offers/offerrun/progress.html",
            {"progress": run_progress(run_id=run_id)},
        )

    def start_view(self, request):
        if not self.may_start(request):
            raise PermissionDenied
        now = timezone.now()
        form = StartRunForm(
            request.POST if request.method == "POST" else None,
            initial={"as_of": timezone.localdate(now)},
        )
        if form.is_valid():
            response = self._start(
                request,
                as_of=form.cleaned_data["as_of"],
                rule_codes=form.cleaned_data["rules"],
                now=now,
            )
            if response is not None:
                return response
        context = {
            **self.admin_site.each_context(request),
            "title": _("Run van de engine starten"),
            "opts": self.model._meta,
            "form": form,
            "open_runs": OfferRun.objects.filter(status__in=OPEN_RUN_STATUSES).order_by("as_of"),
        }
        return TemplateResponse(request, "admin/offers/offerrun/start.html", context)

    def resume_view(self, request, run_id):
        if request.method != "POST":
            raise Http404
        if not self.may_start(request):
            raise PermissionDenied
        run = get_object_or_404(OfferRun, pk=run_id)
        response = self._start(request, as_of=run.as_of, rule_codes=run.rules, now=timezone.now())
        return response or HttpResponseRedirect(
            reverse("admin:offers_offerrun_change", args=[run.pk])
        )

    def _start(self, request, *, as_of, rule_codes, now):
        try:
            run, resumed = tasks.start_run(
                as_of=as_of, now=now, rule_codes=rule_codes, started_by=request.user
            )
        except RunUnfinished as unfinished:
            self.message_user(
                request,
                _(
                    "De run voor %(day)s is nog niet klaar, met andere regels (%(rules)s)."
                    " Hervat eerst die run."
                )
                % {
                    "day": date_format(as_of, "j F Y"),
                    "rules": ", ".join(unfinished.run.rules),
                },
                messages.ERROR,
            )
            return HttpResponseRedirect(
                reverse("admin:offers_offerrun_change", args=[unfinished.run.pk])
            )
        except RunInProgress:
            self.message_user(
                request,
                _(
                    "Er wordt op dit moment al een run voor %(day)s gestart. Probeer het zo"
                    " nog eens."
                )
                % {"day": date_format(as_of, "j F Y")},
                messages.ERROR,
            )
            return None
        day = date_format(run.as_of, "j F Y")
        if resumed:
            message = _(
                "De run voor %(day)s was nog niet klaar en wordt hervat: alleen de delen die"
                " nog niet klaar waren, worden opnieuw gedaan."
            )
        else:
            message = _("De run voor %(day)s staat klaar voor de workers.")
        self.message_user(request, message % {"day": day}, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:offers_offerrun_change", args=[run.pk]))


class RuleFilter(admin.SimpleListFilter):
    """The registered rules, from code: no DISTINCT over the whole offers table."""

    title = _("regel")
    parameter_name = "rule"

    def lookups(self, request, model_admin):
        return [(rule.code, rule.code) for rule in RULES]

    def queryset(self, request, queryset):
        return queryset.filter(rule=self.value()) if self.value() else queryset


class DefaultChoiceFilter(admin.SimpleListFilter):
    """A filter that is never "all" by accident: without a choice in the URL it shows
    `default`; "all" is a choice of its own."""

    default: str
    choices_: list

    def value(self):
        return super().value() or self.default

    def lookups(self, request, model_admin):
        return [*self.choices_, ("all", _("alle"))]

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value()
        if value == "all":
            return queryset
        return self.filter_on(queryset, value)

    def filter_on(self, queryset, value):
        return queryset.filter(status=value)


class ProductFilter(admin.SimpleListFilter):
    """Products by name, in the reader's language (not their codes)."""

    title = _("product")
    parameter_name = "product"

    def lookups(self, request, model_admin):
        return [(str(p.pk), p.name(get_language())) for p in Product.objects.order_by("name_nl")]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(product_id=value) if value and value.isdigit() else queryset


class OfferStatusFilter(DefaultChoiceFilter):
    """The queue opens on what waits for review."""

    title = _("status")
    parameter_name = "status"
    default = OfferStatus.PROPOSED
    choices_ = OfferStatus.choices


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reden"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Verplicht. Wordt bij het aanbod bewaard; de klant ziet het niet."),
    )


# What a review action did, for the reviewer (`OfferAdmin._tell`).
APPROVED = ngettext_lazy("%(n)d aanbod goedgekeurd.", "%(n)d aanbiedingen goedgekeurd.", "n")
REJECTED = ngettext_lazy("%(n)d aanbod afgewezen.", "%(n)d aanbiedingen afgewezen.", "n")
RETRACTED_INSTEAD = ngettext_lazy(
    "%(n)d aanbod is ingetrokken in plaats van goedgekeurd: de toestemming waarop het"
    " steunde geldt niet meer.",
    "%(n)d aanbiedingen zijn ingetrokken in plaats van goedgekeurd: de toestemming waarop"
    " ze steunden geldt niet meer.",
    "n",
)
EXPIRED_ALREADY = ngettext_lazy(
    "%(n)d aanbod was al verlopen en is als verlopen gemarkeerd.",
    "%(n)d aanbiedingen waren al verlopen en zijn als verlopen gemarkeerd.",
    "n",
)
NOT_WAITING = ngettext_lazy(
    "%(n)d aanbod wachtte niet (meer) op beoordeling en is niet veranderd.",
    "%(n)d aanbiedingen wachtten niet (meer) op beoordeling en zijn niet veranderd.",
    "n",
)


@admin.register(Offer)
class OfferAdmin(ReadOnlyAdmin):
    list_display = (
        "customer_number",
        "product_name",
        "evidence",
        "waiting",
        "valid_until",
        "status",
    )
    list_display_links = ("customer_number",)
    list_filter = (OfferStatusFilter, ProductFilter, RuleFilter, "run")
    search_fields = ("=customer__customer_number",)
    search_help_text = _("Zoek op klantnummer.")
    list_select_related = ("product", "customer")
    # Oldest first: what has waited longest is reviewed first.
    ordering = ("created_at", "pk")
    show_full_result_count = False
    actions = ("approve_selected", "reject_selected")
    # No free text and no banking data: what the customer will read, and what it rests on.
    fields = (
        "status",
        "customer_number",
        "product_name",
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

    def get_action_choices(
        self, request, default_choices=None, action_location=admin.ActionLocation.CHANGE_LIST
    ):
        return super().get_action_choices(
            request,
            default_choices=[("", str(_("— kies wat u met de selectie doet —")))],
            action_location=action_location,
        )

    def has_review_permission(self, request):
        return request.user.has_perm("offers.review_offer")

    @admin.display(description=_("klantnummer"), ordering="customer__customer_number")
    def customer_number(self, offer):
        return offer.customer.customer_number

    @admin.display(description=_("product"), ordering="product__name_nl")
    def product_name(self, offer):
        return offer.product.name(get_language())

    @admin.display(description=_("waarom"))
    def evidence(self, offer):
        return offer.staff_evidence(get_language())

    @admin.display(description=_("wacht"), ordering="created_at")
    def waiting(self, offer):
        days = waiting_days(offer, at=timezone.now())
        if days == 0:
            return gettext("vandaag")
        return ngettext("%(n)d dag", "%(n)d dagen", days) % {"n": days}

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

    # --- The detail page: history, and approve / reject, then the next one ----------------
    def change_view(self, request, object_id, form_url="", extra_context=None):
        offer = self.get_object(request, object_id)
        extra = {**(extra_context or {})}
        if offer is not None:
            extra.update(
                {
                    "title": _("Aanbod voor klant %(number)s")
                    % {"number": offer.customer.customer_number},
                    "subtitle": offer.product.name(get_language()),
                    "history": history(offer.events.all()),
                    "may_review": self.has_review_permission(request)
                    and offer.status == OfferStatus.PROPOSED,
                    "reject_form": RejectForm(),
                }
            )
        return super().change_view(request, object_id, form_url, extra)

    def get_urls(self):
        view = self.admin_site.admin_view
        urls = [
            path("overview/", view(self.overview_view), name="offers_privacy_overview"),
            path("<int:offer_id>/approve/", view(self.approve_view), name="offers_offer_approve"),
            path("<int:offer_id>/reject/", view(self.reject_view), name="offers_offer_reject"),
        ]
        return urls + super().get_urls()

    def _reviewable(self, request, offer_id) -> Offer:
        if not self.has_review_permission(request):
            raise PermissionDenied
        return get_object_or_404(Offer.objects.select_related("customer"), pk=offer_id)

    def _next(self, request, offer):
        """On to the next proposed offer, oldest first; the queue when none is left."""
        following = review.next_to_review(after=offer)
        if following is None:
            self.message_user(request, gettext("Er wachten geen aanbiedingen meer op beoordeling."))
            return HttpResponseRedirect(reverse("admin:offers_offer_changelist"))
        return HttpResponseRedirect(reverse("admin:offers_offer_change", args=[following.pk]))

    def approve_view(self, request, offer_id):
        if request.method != "POST":
            raise Http404
        offer = self._reviewable(request, offer_id)
        result = review.approve(offer_ids=[offer.pk], reviewer=request.user, at=timezone.now())
        number = offer.customer.customer_number
        if result.done:
            self.message_user(
                request,
                gettext("Aanbod voor klant %(number)s goedgekeurd.") % {"number": number},
                messages.SUCCESS,
            )
        self._tell_retracted(request, result)
        self._tell_expired_and_skipped(request, result)
        return self._next(request, offer)

    def reject_view(self, request, offer_id):
        if request.method != "POST":
            raise Http404
        offer = self._reviewable(request, offer_id)
        form = RejectForm(request.POST)
        if not form.is_valid():
            self.message_user(request, gettext("Geef een reden om af te wijzen."), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:offers_offer_change", args=[offer.pk]))
        result = review.reject(
            offer_ids=[offer.pk],
            reviewer=request.user,
            reason=form.cleaned_data["reason"],
            at=timezone.now(),
        )
        if result.done:
            self.message_user(
                request,
                gettext("Aanbod voor klant %(number)s afgewezen.")
                % {"number": offer.customer.customer_number},
                messages.SUCCESS,
            )
        self._tell_expired_and_skipped(request, result)
        return self._next(request, offer)

    # --- Bulk actions in the queue --------------------------------------------------------
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
        self._tell(request, result.done, APPROVED, messages.SUCCESS, even_none=True)
        self._tell_retracted(request, result)
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
            self._tell(request, result.done, REJECTED, messages.SUCCESS, even_none=True)
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

    def _tell(self, request, count, message, level=messages.WARNING, *, even_none=False):
        """One of the messages below, with its count, when something was counted (or
        `even_none`: "0 approved" is news to the reviewer who clicked approve)."""
        if count or even_none:
            self.message_user(request, message % {"n": count}, level)

    def _tell_retracted(self, request, result):
        self._tell(request, result.retracted, RETRACTED_INSTEAD)

    def _tell_expired_and_skipped(self, request, result):
        self._tell(request, result.expired, EXPIRED_ALREADY)
        self._tell(request, result.skipped, NOT_WAITING)

    # --- The privacy officer's overview ------------------------------------------------
    def overview_view(self, request):
        if not request.user.has_perm("consent.view_privacy_overview"):
            raise PermissionDenied
        # The period: ?since=YYYY-MM-DD&until=YYYY-MM-DD (the date fields on the page);
        # without them, the last 26 weeks.
        overview = privacy_overview(
            at=timezone.now(),
            language=get_language(),
            weeks=26,
            since=_date_param(request, "since"),
            until=_date_param(request, "until"),
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Privacyoverzicht"),
            "opts": self.model._meta,
            "overview": overview,
            "record_csv": reverse("admin:consent_processing_record", args=["csv"]),
            "record_json": reverse("admin:consent_processing_record", args=["json"]),
        }
        return TemplateResponse(request, "admin/offers/overview.html", context)


def _date_param(request, name):
    """A YYYY-MM-DD query parameter, or None when absent or not a real date."""
    try:
        return parse_date(request.GET.get(name) or "")
    except ValueError:  # well-formed but impossible, like 2026-02-30
        return None


# --- The contact centre's follow-up list ----------------------------------------------------
class FollowUpStatusFilter(DefaultChoiceFilter):
    """The list opens on what still needs a call: open and called, not closed."""

    title = _("status")
    parameter_name = "status"
    default = "todo"
    choices_ = [("todo", _("nog te doen")), *FollowUpStatus.choices]

    def filter_on(self, queryset, value):
        if value == "todo":
            return queryset.exclude(status=FollowUpStatus.CLOSED)
        return queryset.filter(status=value)


class OwnerFilter(admin.SimpleListFilter):
    """Mine, nobody's, or a colleague's: only contact-centre staff are owners."""

    title = _("eigenaar")
    parameter_name = "owner"

    def lookups(self, request, model_admin):
        return [
            ("me", _("ik")),
            ("none", _("niemand")),
            *(
                (str(user.pk), user.get_full_name() or user.get_username())
                for user in klantenservice_staff()
            ),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "me":
            return queryset.filter(owner=request.user)
        if value == "none":
            return queryset.filter(owner__isnull=True)
        if value and value.isdigit():
            return queryset.filter(owner_id=value)
        return queryset


def klantenservice_staff():
    return (
        get_user_model()
        .objects.filter(groups__name=KLANTENSERVICE, is_active=True)
        .order_by("first_name", "username")
    )


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class FollowUpForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=FollowUpStatus.choices)
    owner = StaffChoiceField(
        label=_("Eigenaar"),
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label=_("— niemand —"),
    )
    outcome = forms.ChoiceField(
        label=_("Uitkomst"),
        choices=[("", _("— (alleen bij afsluiten)")), *FollowUpOutcome.choices],
        required=False,
    )
    note = forms.CharField(
        label=_("Notitie"), required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 60})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, StaffChoiceField)  # a copy of the one declared above
        owner.queryset = klantenservice_staff()


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdmin):
    """Customers who said "Interessant": who calls them, and how it went."""

    list_display = (
        "customer_number",
        "customer_name",
        "email",
        "phone",
        "language",
        "product_name",
        "opened_at",
        "owner_name",
        "status",
        "outcome",
    )
    list_display_links = ("customer_number",)
    list_filter = (FollowUpStatusFilter, OwnerFilter)
    search_fields = ("=offer__customer__customer_number",)
    search_help_text = _("Zoek op klantnummer.")
    list_select_related = ("offer__customer", "offer__product", "owner")
    ordering = ("opened_at", "pk")
    actions = None
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        # Only the view permission opens the page; working a follow-up is its own form.
        return False

    def may_work(self, request):
        return request.user.has_perm("offers.change_followup")

    def get_queryset(self, request):
        # Nobody calls a customer who left the bank (issue #14).
        return super().get_queryset(request).filter(offer__customer__closed_on__isnull=True)

    @admin.display(description=_("klantnummer"), ordering="offer__customer__customer_number")
    def customer_number(self, follow_up):
        return follow_up.offer.customer.customer_number

    @admin.display(description=_("naam"))
    def customer_name(self, follow_up):
        return follow_up.offer.customer.full_name

    @admin.display(description=_("e-mailadres"))
    def email(self, follow_up):
        return follow_up.offer.customer.email

    @admin.display(description=_("telefoonnummer"))
    def phone(self, follow_up):
        return follow_up.offer.customer.phone or "—"

    @admin.display(description=_("taal"))
    def language(self, follow_up):
        return follow_up.offer.customer.get_language_display()

    @admin.display(description=_("product"))
    def product_name(self, follow_up):
        return follow_up.offer.product.name(get_language())

    @admin.display(description=_("eigenaar"), ordering="owner__username")
    def owner_name(self, follow_up):
        if follow_up.owner is None:
            return "—"
        return follow_up.owner.get_full_name() or follow_up.owner.get_username()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        follow_up = get_object_or_404(
            FollowUp.objects.select_related("offer__customer", "offer__product", "owner"),
            pk=object_id,
        )
        status = 200
        if request.method == "POST":
            if not self.may_work(request):
                raise PermissionDenied
            form = FollowUpForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    transitions.change_follow_up(
                        follow_up_id=follow_up.pk,
                        to=data["status"],
                        owner=data["owner"],
                        outcome=data["outcome"],
                        note=data["note"],
                        actor=request.user,
                        at=timezone.now(),
                    )
                except transitions.TransitionError as error:
                    form.add_error(None, str(error))
                    status = 409
                else:
                    self.message_user(
                        request,
                        gettext("Terugbelverzoek van klant %(number)s bijgewerkt.")
                        % {"number": follow_up.offer.customer.customer_number},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(reverse("admin:offers_followup_changelist"))
            else:
                status = 400
        else:
            form = FollowUpForm(
                initial={"status": follow_up.status, "owner": follow_up.owner or request.user}
            )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Terugbellen: klant %(number)s")
            % {"number": follow_up.offer.customer.customer_number},
            "opts": self.model._meta,
            "original": follow_up,
            "follow_up": follow_up,
            "customer": follow_up.offer.customer,
            "product_name": follow_up.offer.product.name(get_language()),
            "evidence": follow_up.offer.staff_evidence(get_language()),
            "history": history(follow_up.offer.events.all()),
            "form": form,
            "may_work": self.may_work(request) and follow_up.status != FollowUpStatus.CLOSED,
        }
        return TemplateResponse(
            request, "admin/offers/followup/follow_up.html", context, status=status
        )

"""Offers in the admin: lists and detail pages (docs/architecture.md): the review queue,
engine runs, the contact centre's follow-up list.

Reviewers see what the customer will see (explanation) and the banded evidence it rests
on (never the customer's own figures), the consent events and their versions, and the
offer's history — never transactions, balances, holdings or free text. The banking
models are deliberately not registered here at all, so no staff member can reach them
through the admin, by menu or by URL.

An offer's fields are read-only for everyone. The staff's workflows are views of their
own (`offers.staff_views`), linked from these pages: reviewing (*Goedkeuren*/*Afwijzen*
on the detail page, and the bulk actions of the queue), starting and resuming runs,
working a follow-up, and the privacy overview. Each calls one domain function
(`offers.review`, `offers.tasks`, `offers.transitions`), which writes the change's event.
"""

from django.contrib import admin
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import get_language, gettext, ngettext
from django.utils.translation import gettext_lazy as _

from banking.models import Product
from consent.admin import ReadOnlyAdmin
from consent.channels import customers_reachable_by
from infra.languages import in_language

from .engine import run_progress, sum_counts
from .forms import RejectForm
from .models import ChunkStatus, FollowUp, FollowUpStatus, Offer, OfferRun, OfferStatus, RunStatus
from .staff import history, klantenservice_staff, rule_names, waiting_days
from .staff_views import review


@admin.register(Product)
class ProductAdmin(ReadOnlyAdmin):
    list_display = ("name", "code")

    @admin.display(description=_("naam"), ordering="name_nl")
    def name(self, product):
        return product.name(get_language())


# --- Engine runs: the list, and each run's page with its progress ---------------------------
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
        names = rule_names()
        return ", ".join(names.get(code, code) for code in run.rules)

    @admin.display(description=_("aantallen per regel"))
    def counts_table(self, run):
        # While the run is open: what its chunks that are done have counted so far.
        counts = run.counts
        if run.is_open:
            done = run.chunks.filter(status=ChunkStatus.DONE).values_list("counts", flat=True)
            counts = sum_counts(run.rules, done)
        rules = rule_names()
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
                        rules.get(code, code),
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


class RuleFilter(admin.SimpleListFilter):
    """The registered rules, from code: no DISTINCT over the whole offers table."""

    title = _("regel")
    parameter_name = "rule"

    def lookups(self, request, model_admin):
        return list(rule_names().items())

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
    actions = (review.approve_selected, review.reject_selected)
    # No free text and no banking data: what the customer will read, and what it rests on.
    fields = (
        "status",
        "customer_number",
        "product_name",
        "rule_name",
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

    @admin.display(description=_("regel"), ordering="rule")
    def rule_name(self, offer):
        return rule_names().get(offer.rule, offer.rule)

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
                        in_language(event.purpose_version, "title"),
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

    # --- The detail page: history, and the review buttons (`offers.staff_views.review`) ----
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
        # Working a follow-up is its own page (`offers.staff_views.follow_ups`).
        return False

    def get_queryset(self, request):
        # Nobody calls a customer who left the bank, nor one whose choice for calls about
        # offers does not count now (off, withdrawn, expired, an objection: the
        # Telecommunicatiewet, art. 11.7): judged in the list's own query.
        return (
            super()
            .get_queryset(request)
            .filter(
                offer__customer__closed_on__isnull=True,
                offer__customer_id__in=customers_reachable_by(channel="phone", at=timezone.now()),
            )
        )

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

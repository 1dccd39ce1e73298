"""The privacy officer's view of the API: the change feed and who read it (read-only for
everyone; the database refuses changes anyway), and the OAuth clients.

Clients change with four eyes (`api.clients`): a privacy officer proposes a new client
or new redirect URIs (*Wijzigingen van API-clients*), another approves or rejects it on
the proposal's page. django-oauth-toolkit's application pages are read-only here, for
superusers too (`OAUTH2_PROVIDER["APPLICATION_ADMIN_CLASS"]`): no form sets a client's
URIs or "skip authorization". Deleting a client and revoking tokens (the "revoke"
action) take one officer: they only take access away.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import get_application_model

from consent.models import PurposeVersion
from ledger.admin import PurposeByTitle, PurposeFilter, ReadOnlyAdmin

from .clients import (
    APPROVE_PERMISSION,
    KINDS,
    ClientChangeRefused,
    approve_client_change,
    propose_client,
    propose_redirect_uris,
    reject_client_change,
)
from .forms import KIND_CHOICES, ProposeClientForm, ProposeRedirectUrisForm, kind_label
from .models import ClientChange, ClientChangeStatus, ConsentChange, FeedRead


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
class ConsentChangeAdmin(PurposeByTitle, ReadOnlyAdmin):
    list_display = (
        "id",
        "customer",
        "purpose_title",
        "kind",
        "may_use",
        "effective_at",
        "recorded_at",
        "valid_until",
    )
    list_filter = ("kind", "may_use", PurposeFilter)
    search_fields = ("=customer__customer_number",)
    list_select_related = ("customer", "purpose")
    show_full_result_count = False

    def get_queryset(self, request):
        # The purpose's newest title in each row's query (a row names no version).
        return (
            super()
            .get_queryset(request)
            .annotate(
                _purpose_title_nl=newest_title("title_nl"),
                _purpose_title_en=newest_title("title_en"),
            )
        )


class ClientKindFilter(admin.SimpleListFilter):
    """The two kinds of client the API accepts (`api.clients.KINDS`), not every grant
    type django-oauth-toolkit knows (implicit, password, device, OpenID Connect)."""

    title = _("soort client")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return KIND_CHOICES

    def queryset(self, request, queryset):
        if self.value() not in KINDS:
            return queryset
        client_type, grant = KINDS[self.value()]
        return queryset.filter(client_type=client_type, authorization_grant_type=grant)


class ApplicationAdmin(admin.ModelAdmin):
    """django-oauth-toolkit's clients, read-only: they change through proposals."""

    list_display = ("name", "client_id", "kind", "created")
    list_filter = (ClientKindFilter,)
    search_fields = ("name", "=client_id")
    fields = (
        "name",
        "client_id",
        "kind",
        "redirect_uris",
        "skip_authorization",
        "created",
        "updated",
    )
    readonly_fields = fields

    @admin.display(description=_("soort client"))
    def kind(self, application):
        return kind_label(application.client_type, application.authorization_grant_type)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        context = {**(extra_context or {}), "may_propose": _may_propose(request)}
        return super().changelist_view(request, context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = {**(extra_context or {}), "may_propose": _may_propose(request)}
        return super().change_view(request, object_id, form_url, context)


@admin.register(ClientChange)
class ClientChangeAdmin(admin.ModelAdmin):
    list_display = (
        "proposed_at",
        "kind",
        "name",
        "client_id",
        "status",
        "proposed_by",
        "decided_by",
        "decided_at",
    )
    list_filter = ("status", "kind")
    list_select_related = ("proposed_by", "decided_by")
    search_fields = ("name", "=client_id")
    fields = (
        "kind",
        "name",
        "client_id",
        "client_kind",
        "previous_redirect_uris",
        "redirect_uris",
        "status",
        "proposed_by",
        "proposed_at",
        "decided_by",
        "decided_at",
    )
    readonly_fields = fields

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("soort client"))
    def client_kind(self, change):
        return kind_label(change.client_type, change.authorization_grant_type)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "uris/<int:application_id>/",
                view(self.propose_uris_view),
                name="api_clientchange_uris",
            ),
            path(
                "<int:change_id>/approve/", view(self.approve_view), name="api_clientchange_approve"
            ),
            path("<int:change_id>/reject/", view(self.reject_view), name="api_clientchange_reject"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        """Propose a new client. A system's secret is on the answer page, once."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ProposeClientForm(request.POST if request.method == "POST" else None)
        proposal = None
        if form.is_valid():
            try:
                proposal = propose_client(
                    name=form.cleaned_data["name"],
                    kind=form.cleaned_data["kind"],
                    redirect_uris=form.cleaned_data["redirect_uris"],
                    by=request.user,
                    at=timezone.now(),
                )
            except ClientChangeRefused as refusal:
                form.add_error(None, refusal.message)
        return self._page(
            request,
            "admin/api/clientchange/propose.html",
            title=_("Nieuwe API-client voorstellen"),
            form=form,
            proposal=proposal,
        )

    def propose_uris_view(self, request, application_id):
        if not self.has_add_permission(request):
            raise PermissionDenied
        application = get_object_or_404(get_application_model(), pk=application_id)
        form = ProposeRedirectUrisForm(
            request.POST if request.method == "POST" else None,
            initial={"redirect_uris": application.redirect_uris.replace(" ", "\n")},
            grant=application.authorization_grant_type,
        )
        if form.is_valid():
            try:
                change = propose_redirect_uris(
                    application_id=application.pk,
                    redirect_uris=form.cleaned_data["redirect_uris"],
                    by=request.user,
                    at=timezone.now(),
                )
            except ClientChangeRefused as refusal:
                form.add_error(None, refusal.message)
            else:
                self.message_user(
                    request,
                    gettext(
                        "Voorgesteld. De huidige redirect-URI's blijven gelden tot een andere"
                        " privacy officer het goedkeurt."
                    ),
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:api_clientchange_change", args=[change.pk])
                )
        return self._page(
            request,
            "admin/api/clientchange/propose.html",
            title=_("Andere redirect-URI's voorstellen voor %(name)s") % {"name": application},
            form=form,
            application=application,
        )

    def approve_view(self, request, change_id):
        return self._decide(request, change_id, approve_client_change, _("Goedgekeurd."))

    def reject_view(self, request, change_id):
        return self._decide(request, change_id, reject_client_change, _("Afgewezen."))

    def _decide(self, request, change_id, decide, done):
        if request.method != "POST":
            raise Http404
        change = get_object_or_404(ClientChange, pk=change_id)
        if (
            not request.user.has_perm(APPROVE_PERMISSION)
            and request.user.pk != change.proposed_by_id
        ):
            raise PermissionDenied
        try:
            decide(change_id=change.pk, by=request.user, at=timezone.now())
        except ClientChangeRefused as refusal:
            self.message_user(request, refusal.message, messages.ERROR)
        else:
            self.message_user(request, done, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:api_clientchange_change", args=[change.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        change = self.get_object(request, object_id)
        pending = change is not None and change.status == ClientChangeStatus.PENDING
        own = change is not None and change.proposed_by_id == request.user.pk
        may_decide = request.user.has_perm(APPROVE_PERMISSION)
        context = {
            **(extra_context or {}),
            "may_approve": pending and may_decide and not own,
            "may_reject": pending and (may_decide or own),
            "own_proposal": pending and own,
        }
        return super().change_view(request, object_id, form_url, context)

    def _page(self, request, template, **context):
        return TemplateResponse(
            request,
            template,
            {**self.admin_site.each_context(request), "opts": self.opts, **context},
        )


def newest_title(field: str) -> Subquery:
    newest = PurposeVersion.objects.filter(purpose=OuterRef("purpose_id")).order_by("-version")
    return Subquery(newest.values(field)[:1])


def _may_propose(request) -> bool:
    return request.user.has_perm("api.add_clientchange")


from . import webhook_admin  # noqa: E402, F401 (registers the webhooks' pages)

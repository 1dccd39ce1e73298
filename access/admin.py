"""Third parties in the staff site.

- Privacy officers register data users (`DataUser`), suspend them (every read stops at
  once; the customers see the reason) or lift a suspension, and see every permission and
  every read, per data user. Reads show what and when, never an amount: staff never see
  customers' money (as everywhere in the staff site).
- The contact centre (Klantenservice) withdraws a permission for a customer who phones
  (`access.withdraw_permission`): identity checked and a note, recorded like any choice
  staff record for a customer (`consent.StaffAction` on the ledger event).
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from ledger.admin import ReadOnlyAdmin

from . import actions
from .forms import SuspendForm, WithdrawForCustomerForm
from .models import AccessChange, DataUser, DataUserStatus, Permission, PermissionStatus, Read

WITHDRAW_PERMISSION = "access.withdraw_permission"
SUSPEND_PERMISSION = "access.suspend_datauser"


def _page(admin_view, request, *, title, what, form):
    return TemplateResponse(
        request,
        "admin/access/act.html",
        {
            **admin_view.admin_site.each_context(request),
            "opts": admin_view.opts,
            "title": title,
            "what": what,
            "form": form,
        },
    )


@admin.register(DataUser)
class DataUserAdmin(admin.ModelAdmin):
    list_display = ("name", "registration_number", "country", "status", "application")
    list_filter = ("status", "country")
    list_select_related = ("application",)
    search_fields = ("name", "registration_number")
    fields = (
        "name",
        "registration_number",
        "country",
        "contact",
        "application",
        "status",
        "suspended_reason",
        "suspended_at",
        "registered_at",
        "permissions_link",
        "suspend_link",
    )
    readonly_fields = (
        "suspend_link",
        "status",
        "suspended_reason",
        "suspended_at",
        "registered_at",
        "permissions_link",
    )

    def get_readonly_fields(self, request, obj=None):
        # A data user's client is fixed once registered: another client is another party.
        if obj is not None:
            return (*self.readonly_fields, "application")
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if not change:
            obj.registered_at = timezone.now()
        super().save_model(request, obj, form, change)

    @admin.display(description=_("toegang en gelezen"))
    def permissions_link(self, data_user):
        if data_user.pk is None:
            return "—"
        url = (
            reverse("admin:access_permission_changelist") + f"?data_user__id__exact={data_user.pk}"
        )
        return format_html('<a href="{}">{}</a>', url, _("Alle toegang van deze partij"))

    @admin.display(description=_("schorsen"))
    def suspend_link(self, data_user):
        if data_user.pk is None or data_user.status != DataUserStatus.ACTIVE:
            return "—"
        url = reverse("admin:access_datauser_suspend", args=[data_user.pk])
        return format_html('<a href="{}">{}</a>', url, _("Deze partij schorsen"))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/suspend/", view(self.suspend_view), name="access_datauser_suspend"),
            path(
                "<int:pk>/reinstate/", view(self.reinstate_view), name="access_datauser_reinstate"
            ),
            *super().get_urls(),
        ]

    def suspend_view(self, request, pk):
        if not request.user.has_perm(SUSPEND_PERMISSION):
            raise PermissionDenied
        data_user = get_object_or_404(DataUser, pk=pk)
        form = SuspendForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                actions.suspend_data_user(
                    data_user=data_user,
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                    at=timezone.now(),
                )
            except actions.AccessError as error:
                form.add_error(None, str(error))
            else:
                self.log_change(request, data_user, [{"changed": {"fields": ["status"]}}])
                self.message_user(request, _("Geschorst: elke lezing stopt nu."), messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:access_datauser_change", args=[data_user.pk])
                )
        return _page(
            self,
            request,
            title=_("%(name)s schorsen") % {"name": data_user.name},
            what=_(
                "Alles wat deze partij leest, stopt meteen. De klanten zien op hun overzicht"
                " dat de partij geschorst is, en waarom."
            ),
            form=form,
        )

    def reinstate_view(self, request, pk):
        if request.method != "POST":
            raise PermissionDenied
        if not request.user.has_perm(SUSPEND_PERMISSION):
            raise PermissionDenied
        data_user = get_object_or_404(DataUser, pk=pk, status=DataUserStatus.SUSPENDED)
        actions.reinstate_data_user(data_user=data_user, actor=request.user, at=timezone.now())
        self.log_change(request, data_user, [{"changed": {"fields": ["status"]}}])
        return HttpResponseRedirect(reverse("admin:access_datauser_change", args=[data_user.pk]))


class ReadInline(admin.TabularInline):
    model = Read
    fields = ("read_at", "kind", "account", "date_from", "date_to", "rows")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-read_at",)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Permission)
class PermissionAdmin(ReadOnlyAdmin):
    list_display = (
        "consent_id",
        "data_user",
        "customer",
        "status",
        "valid_until",
        "frequency_per_day",
        "decided_at",
        "ended_at",
    )
    list_filter = ("status", "data_user")
    list_select_related = ("data_user", "customer")
    search_fields = ("=consent_id", "=customer__customer_number")
    date_hierarchy = "requested_at"
    show_full_result_count = False
    fields = (
        "consent_id",
        "data_user",
        "customer",
        "status",
        "all_accounts",
        "ibans",
        "balances",
        "transactions",
        "valid_until",
        "frequency_per_day",
        "reason",
        "requested_at",
        "decided_at",
        "text_version",
        "text_sha256",
        "ended_at",
        "ended_by",
        "withdraw_link",
    )
    readonly_fields = fields
    inlines = [ReadInline]

    @admin.display(description=_("intrekken"))
    def withdraw_link(self, permission):
        if permission.status != PermissionStatus.VALID:
            return "—"
        url = reverse("admin:access_permission_withdraw", args=[permission.pk])
        return format_html('<a href="{}">{}</a>', url, _("Op verzoek van de klant intrekken"))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/withdraw/", view(self.withdraw_view), name="access_permission_withdraw"),
            *super().get_urls(),
        ]

    def withdraw_view(self, request, pk):
        if not request.user.has_perm(WITHDRAW_PERMISSION):
            raise PermissionDenied
        permission = get_object_or_404(Permission.objects.select_related("data_user"), pk=pk)
        form = WithdrawForCustomerForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                actions.withdraw_for_customer(
                    permission=permission,
                    staff=request.user,
                    channel=form.cleaned_data["channel"],
                    identity_checked=form.cleaned_data["identity_checked"],
                    note=form.cleaned_data["note"],
                    at=timezone.now(),
                )
            except actions.AccessError as error:
                form.add_error(None, str(error))
            else:
                self.message_user(
                    request,
                    _("Ingetrokken: de partij leest vanaf nu niets meer."),
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(
                    reverse("admin:access_permission_change", args=[permission.pk])
                )
        return _page(
            self,
            request,
            title=_("Toegang van %(name)s intrekken") % {"name": permission.data_user.name},
            what=_(
                "De klant vraagt de toegang van deze partij in te trekken. Controleer eerst de"
                " identiteit van de klant. De partij leest daarna meteen niets meer."
            ),
            form=form,
        )


@admin.register(Read)
class ReadAdmin(ReadOnlyAdmin):
    """Every read by a data user: when and what, never an amount."""

    list_display = ("read_at", "permission", "kind", "date_from", "date_to", "rows")
    list_filter = ("kind", "permission__data_user")
    list_select_related = ("permission",)
    date_hierarchy = "read_at"
    show_full_result_count = False


@admin.register(AccessChange)
class AccessChangeAdmin(ReadOnlyAdmin):
    """The data users' feed: what each was told, and when."""

    list_display = ("id", "data_user", "permission", "event", "consent_status", "effective_at")
    list_filter = ("event", "data_user")
    list_select_related = ("data_user", "permission")
    show_full_result_count = False

"""Activation codes in the admin, and the staff's authenticators.

Superusers and *Access managers* issue a code for a colleague (never for themselves):
the code is on the page once and nowhere else. The list shows who issued which code for
whom, and whether it was used; nobody edits or deletes a code.

Authenticators (*TOTP devices*) can be seen and deleted (a lost phone), never added or
edited here, and their keys are never shown: a device comes only from enrolment with an
activation code. django-otp's own admin (which adds devices with a chosen key and shows
any device's QR code to a superuser) is replaced.
"""

import django_otp.plugins.otp_totp.admin  # noqa: F401  (registers the admin replaced below)
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from .activation import ActivationRefused, issue_activation_code
from .forms import IssueCodeForm
from .models import ActivationCode


@admin.register(ActivationCode)
class ActivationCodeAdmin(admin.ModelAdmin):
    list_display = ("user", "issuer", "issued_at", "expires_at", "used_at")
    list_select_related = ("user", "issued_by")
    fields = ("user", "issuer", "issued_at", "expires_at", "used_at")
    readonly_fields = fields
    search_fields = ("user__username",)
    date_hierarchy = "issued_at"

    @admin.display(description=_("uitgegeven door"))
    def issuer(self, code):
        return code.issued_by or _("beheercommando (issue_staff_activation)")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        """Issue a code: choose the colleague; the code is shown on this page, once (the
        admin's pages are never cached)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = IssueCodeForm(
            request.POST if request.method == "POST" else None, issuer=request.user
        )
        issued = None
        if form.is_valid():
            try:
                issued = issue_activation_code(
                    user=form.cleaned_data["user"], issued_by=request.user, at=timezone.now()
                )
            except ActivationRefused as refusal:
                form.add_error("user", refusal.message)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Activeringscode uitgeven"),
            "form": form,
            "issued": issued,
        }
        return TemplateResponse(request, "admin/staff_otp/activationcode/issue.html", context)


class DeviceAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "created_at", "last_used_at", "confirmed")
    list_filter = ("confirmed",)
    list_select_related = ("user",)
    search_fields = ("user__username",)
    fields = ("user", "name", "confirmed", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


admin.site.unregister(TOTPDevice)
admin.site.register(TOTPDevice, DeviceAdmin)

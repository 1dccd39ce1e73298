"""The staff site: a password, then a TOTP code (django-otp), where STAFF_OTP_REQUIRED.

A staff member without a device enrols only with a one-time activation code that someone
else issued for them (config/staff_otp): the password alone is not enough, on the first
login or after a lost device was deleted. The code is used up and a new secret is shown
(as text, as an otpauth:// URI and as a QR code) to this session only; it counts once a
code from it is entered. Demo settings skip the second factor, and with it the activation
code, and say so in every admin page.

The staff's workflows (publishing a text, acting for a customer, starting a run,
reviewing, follow-ups, the privacy overview) are plain function views of their apps
(`<app>/staff_views/`), run inside this site by `infra.staffsite.staff_view` and listed
in `WORKFLOW_URLS`; the apps' `ModelAdmin`s keep the lists and the detail pages.
"""

from base64 import b32encode

import segno
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import include, path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.login import StaffLoginForm, address_throttled
from config.staff_otp.activation import ActivationRefused, confirm_enrolment, start_enrolment
from config.staff_otp.forms import ActivationForm, TokenForm

# The unconfirmed device this session may confirm: made when it gave an activation code.
ENROLLING = "staff_otp_enrolling_device"
# The apps' staff workflows, ahead of the models' own URLs: where a workflow answers a
# model's URL (adding a purpose version, a follow-up's page), the model's view is never
# reached.
WORKFLOW_URLS = ("consent.staff_views.urls", "offers.staff_views.urls")


def otp_required() -> bool:
    return settings.STAFF_OTP_REQUIRED


class StaffAdminSite(admin.AdminSite):
    # The header of every admin page: the bank's name, not "Django-beheer".
    site_header = _("Voorbeeldbank · medewerkers")
    site_title = _("Voorbeeldbank")
    index_title = _("Werkplek")
    # No second menu on the left: the review queue and the privacy overview need the width
    # to show every column on a 1280 px screen, and the front page lists the same links.
    enable_nav_sidebar = False
    login_form = StaffLoginForm

    def has_permission(self, request):
        if not super().has_permission(request):
            return False
        return not otp_required() or request.user.is_verified()

    def each_context(self, request):
        return {**super().each_context(request), "otp_skipped": not otp_required()}

    def get_urls(self):
        return [
            path("otp/", self.otp_view, name="otp"),
            *(path("", include(urls)) for urls in WORKFLOW_URLS),
            *super().get_urls(),
        ]

    @method_decorator(never_cache)
    def login(self, request, extra_context=None):
        if password_only(request):
            return HttpResponseRedirect(otp_url(request, self.name))
        return address_throttled(super().login)(request, extra_context)

    @method_decorator(never_cache)
    def otp_view(self, request):
        """The second step: a code from the staff member's device; without one, the
        activation code, then the new device's first code."""
        user = request.user
        if not (user.is_active and user.is_staff):
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is not None:
            return self._verify(request, device)
        enrolling = TOTPDevice.objects.filter(
            pk=request.session.get(ENROLLING), user=user, confirmed=False
        ).first()
        if enrolling is None:
            return self._activate(request)
        return self._enrol(request, enrolling)

    def _verify(self, request, device):
        form = TokenForm(request.POST or None)
        if form.is_valid():
            if device.verify_token(form.cleaned_data["token"]):
                otp_login(request, device)
                return HttpResponseRedirect(next_url(request, self.name))
            form.add_error("token", _("Deze code klopt niet. Probeer de volgende."))
        return self._otp_page(request, form, step="verify", title=_("Tweede stap"))

    def _activate(self, request):
        form = ActivationForm(request.POST or None)
        if form.is_valid():
            try:
                device = start_enrolment(
                    user=request.user, code=form.cleaned_data["code"], at=timezone.now()
                )
            except ActivationRefused as refusal:
                form.add_error("code", refusal.message)
            else:
                request.session[ENROLLING] = device.pk
                return self._otp_page(request, TokenForm(), step="enrol", device=device)
        return self._otp_page(request, form, step="activate")

    def _enrol(self, request, device):
        form = TokenForm(request.POST or None)
        if form.is_valid():
            if confirm_enrolment(device=device, token=form.cleaned_data["token"]):
                del request.session[ENROLLING]
                otp_login(request, device)
                return HttpResponseRedirect(next_url(request, self.name))
            form.add_error("token", _("Deze code klopt niet. Probeer de volgende."))
        return self._otp_page(request, form, step="enrol", device=device)

    def _otp_page(self, request, form, *, step, device=None, title=None):
        context = {
            **self.each_context(request),
            "title": title or _("Authenticator instellen"),
            "form": form,
            "step": step,
            REDIRECT_FIELD_NAME: request.GET.get(REDIRECT_FIELD_NAME, ""),
        }
        if device is not None:
            context["secret"] = secret_text(device)
            context["uri"] = device.config_url
            context["qr"] = segno.make(device.config_url, error="m").svg_data_uri(scale=4)
        return render(request, "admin/otp.html", context)


def password_only(request) -> bool:
    """Logged in with a password as staff, second factor still to come."""
    user = request.user
    return (
        otp_required()
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and not user.is_verified()
    )


def otp_url(request, site_name):
    url = reverse(f"{site_name}:otp")
    target = request.GET.get(REDIRECT_FIELD_NAME)
    return f"{url}?{urlencode({REDIRECT_FIELD_NAME: target})}" if target else url


def next_url(request, site_name):
    target = request.GET.get(REDIRECT_FIELD_NAME, "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(f"{site_name}:index")


def secret_text(device) -> str:
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))

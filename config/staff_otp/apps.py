from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StaffOtpConfig(AppConfig):
    """Staff's second factor: who may enrol an authenticator (activation codes)."""

    name = "config.staff_otp"
    label = "staff_otp"
    verbose_name = _("Tweede factor van medewerkers")

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = _("Toestemming")

    def ready(self):
        from ledger.signals import audit

        from .audit import check_ledger

        audit.connect(check_ledger, dispatch_uid="consent.check_ledger")

        # consent's own kinds of data in the retention registry (other apps add theirs).
        from .retention import (
            oldest_consent_proof,
            oldest_profile,
            pseudonymise_profiles,
            register_kind,
            remove_consent_proof,
        )

        register_kind("consent_proof", remove=remove_consent_proof, oldest=oldest_consent_proof)
        register_kind("profile", remove=pseudonymise_profiles, oldest=oldest_profile)

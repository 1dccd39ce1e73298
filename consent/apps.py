from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = _("Toestemming")

    def ready(self):
        from ledger.signals import audit, restored

        from .audit import check_ledger
        from .restore import stop_processing_after_restore

        audit.connect(check_ledger, dispatch_uid="consent.check_ledger")
        restored.connect(stop_processing_after_restore, dispatch_uid="consent.restored")

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

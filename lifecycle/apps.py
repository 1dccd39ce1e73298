from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LifecycleConfig(AppConfig):
    name = "lifecycle"
    verbose_name = _("Vertrek, verwijderen en bewaartermijnen")

    def ready(self):
        from consent import advance_notices

        from . import retention, signals

        # consent's own data (the proof, the profile) is removed here, where the rules are.
        signals.kept_data.connect(retention.consents_own_data)
        # The notices sent are part of the history: they go when the proof of it goes.
        signals.proof_removed.connect(advance_notices.remove_customer_notices)

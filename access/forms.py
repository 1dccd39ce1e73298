"""The staff's forms (access.admin)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ledger.models import Channel


class WithdrawForCustomerForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("Hoe vroeg de klant het"),
        choices=[(Channel.PHONE, Channel.PHONE.label), (Channel.BRANCH, Channel.BRANCH.label)],
    )
    identity_checked = forms.BooleanField(label=_("Identiteit van de klant gecontroleerd"))
    note = forms.CharField(label=_("Wat de klant vroeg"), widget=forms.Textarea, max_length=2000)


class SuspendForm(forms.Form):
    reason = forms.CharField(
        label=_("Reden (de klanten lezen hem)"), widget=forms.Textarea, max_length=500
    )

"""The staff's second factor: the code from the authenticator, the activation code, and
issuing an activation code for a colleague."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code uit uw authenticator-app"),
        min_length=6,
        max_length=6,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class ActivationForm(forms.Form):
    code = forms.CharField(
        label=_("Activeringscode"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "autofocus": True}
        ),
    )


class IssueCodeForm(forms.Form):
    """Whom the code is for: an active staff member, never the one issuing it."""

    user = forms.ModelChoiceField(label=_("Medewerker"), queryset=get_user_model().objects.none())

    def __init__(self, *args, issuer, **kwargs):
        super().__init__(*args, **kwargs)
        staff = get_user_model().objects.filter(is_staff=True, is_active=True)
        field = self.fields["user"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = staff.exclude(pk=issuer.pk).order_by("username")

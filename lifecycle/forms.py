"""The erasure page's form."""

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


class ErasureForm(forms.Form):
    """Confirming erasure on request. Unless the customer logged in a few minutes ago
    (settings.RECENT_LOGIN_SECONDS), with their password again: whoever finds a session
    left open must not erase with one click. A wrong password counts as a failed login
    (django-axes), so the form is no way round the login's lockout."""

    password = forms.CharField(
        label=_("Wachtwoord"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Vul uw wachtwoord in. Er is niets verwijderd.")},
    )

    def __init__(self, data=None, *, request, ask_password: bool):
        super().__init__(data)
        self.request = request
        if not ask_password:
            del self.fields["password"]

    @property
    def asks_password(self) -> bool:
        return "password" in self.fields

    @property
    def password_help(self) -> str:
        """Why the password is asked again. In Python, not in the page: the page is a
        Jinja2 template, where makemessages cannot read a plural."""
        minutes = settings.RECENT_LOGIN_SECONDS // 60
        return ngettext(
            "Omdat u meer dan %(minutes)s minuut geleden inlogde, vragen wij het nog eens: zo"
            " kan niemand anders die uw scherm vindt dit laten verwijderen.",
            "Omdat u meer dan %(minutes)s minuten geleden inlogde, vragen wij het nog eens: zo"
            " kan niemand anders die uw scherm vindt dit laten verwijderen.",
            minutes,
        ) % {"minutes": minutes}

    def clean_password(self):
        password = self.cleaned_data["password"]
        user = self.request.user
        found = authenticate(self.request, username=user.get_username(), password=password)
        if found is None or found.pk != user.pk:
            raise forms.ValidationError(
                _("Dit wachtwoord klopt niet. Er is niets verwijderd."), code="wrong_password"
            )
        return password

"""The privacy officer's forms for OAuth clients (admin, `api.admin`). There is no
field for "skip authorization", nor for the client's type apart from its kind: every
client asks the customer, and a client is either the bank's app or one of its systems."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .clients import KINDS, redirect_uri_problems
from .webhooks import url_problems

KIND_CHOICES = [
    ("app", _("De app van de bank (authorization code met PKCE, publiek)")),
    ("system", _("Een systeem van de bank (client credentials)")),
]


def kind_label(client_type: str, grant: str) -> str:
    """A client's kind in words; a client of any other kind is refused by the API."""
    for kind, label in KIND_CHOICES:
        if KINDS[kind] == (client_type, grant):
            return str(label)
    return str(_("een soort die de API weigert (%(grant)s)") % {"grant": grant})


URIS_HELP = _(
    "Eén per regel. Elke URI moet op de lijst van toegestane redirect-URI's staan"
    " (OAUTH_REDIRECT_URI_ALLOWLIST). Een systeem van de bank krijgt er geen."
)


class RedirectUrisField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 3, "cols": 60})

    def to_python(self, value):
        return str(super().to_python(value)).split()


class ProposeClientForm(forms.Form):
    name = forms.CharField(label=_("Naam"), max_length=255)
    kind = forms.ChoiceField(
        label=_("Soort client"), choices=KIND_CHOICES, widget=forms.RadioSelect
    )
    redirect_uris = RedirectUrisField(
        label=_("Redirect-URI's"), required=False, help_text=URIS_HELP
    )

    def clean(self):
        cleaned = super().clean()
        if "kind" in cleaned and "redirect_uris" in cleaned:
            _client_type, grant = KINDS[cleaned["kind"]]
            for problem in redirect_uri_problems(cleaned["redirect_uris"], grant=grant):
                self.add_error("redirect_uris", problem)
        return cleaned


class ProposeRedirectUrisForm(forms.Form):
    redirect_uris = RedirectUrisField(label=_("Nieuwe redirect-URI's"), help_text=URIS_HELP)

    def __init__(self, *args, grant, **kwargs):
        super().__init__(*args, **kwargs)
        self.grant = grant

    def clean_redirect_uris(self):
        uris = self.cleaned_data["redirect_uris"]
        problems = redirect_uri_problems(uris, grant=self.grant)
        if problems:
            raise forms.ValidationError(problems)
        return uris


class RegisterWebhookForm(forms.Form):
    """A webhook endpoint for one of the bank's systems (`api.webhooks.register_endpoint`)."""

    application = forms.ModelChoiceField(
        label=_("Systeem"),
        queryset=None,
        help_text=_("Alleen systemen van de bank (client credentials) krijgen webhooks."),
    )
    url = forms.URLField(
        label=_("URL"),
        max_length=2000,
        assume_scheme="https",
        help_text=_("https; het adres moet openbaar zijn of in WEBHOOK_ALLOWED_NETWORKS liggen."),
    )

    def __init__(self, *args, **kwargs):
        from oauth2_provider.models import AbstractApplication, get_application_model

        super().__init__(*args, **kwargs)
        field = self.fields["application"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (
            get_application_model()
            .objects.filter(authorization_grant_type=AbstractApplication.GRANT_CLIENT_CREDENTIALS)
            .order_by("name")
        )

    def clean_url(self):
        url = self.cleaned_data["url"]
        problems = url_problems(url)
        if problems:
            raise forms.ValidationError(problems)
        return url

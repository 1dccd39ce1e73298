"""Who may ask for which scope.

Two kinds of client, registered by a privacy officer in the admin:

- the bank's app: authorization code with PKCE (a public client); a customer logs in on
  our login page and allows it to read (`consent:read`) and to choose (`consent:choose`)
  for them;
- the bank's other systems: client credentials, scopes `consent:feed` (the change feed)
  and `consent:check` (may this customer be used for this purpose now);
- data users (third parties, `access.DataUser`): client credentials, scope `psd2:ais`
  only: their own permissions and what the customers let them read (`api.access_views`).

No client gets a scope of the other kind, and the other grant types (implicit, password,
device) get no token at all. A redirect URI counts only while it is on the allow-list of
the settings (api/redirects.py), also for a client registered before it: registering a
client or changing its URIs takes two privacy officers (api/clients.py).
"""

from typing import Any

from django.utils.translation import ngettext_lazy
from oauth2_provider.models import AbstractApplication
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import SettingsScopes

from access.models import DataUser
from infra.effects import Effect, EffectKind

from .clients import redirect_uri_allowed

READ = "consent:read"
CHOOSE = "consent:choose"
FEED = "consent:feed"
CHECK = "consent:check"
# A data user's client (access.DataUser, client credentials): its permissions only.
AIS = "psd2:ais"

SCOPES_BY_GRANT = {
    AbstractApplication.GRANT_AUTHORIZATION_CODE: (READ, CHOOSE),
    AbstractApplication.GRANT_CLIENT_CREDENTIALS: (FEED, CHECK),
}
DEFAULT_SCOPES_BY_GRANT = {
    AbstractApplication.GRANT_AUTHORIZATION_CODE: (READ,),
    AbstractApplication.GRANT_CLIENT_CREDENTIALS: (FEED,),
}
# oauthlib's grant type names, as a token request states them.
ALLOWED_GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")


def is_data_user(application) -> bool:
    """Whether this client is a data user's (a third party's): it gets `psd2:ais` and
    nothing of the bank's own systems' scopes (the feed, checks)."""
    return application is not None and DataUser.objects.filter(application=application).exists()


class ScopesByClientKind(SettingsScopes):
    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        if is_data_user(application):
            return [AIS]
        grant = getattr(application, "authorization_grant_type", None)
        return list(SCOPES_BY_GRANT.get(grant, ()))

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        if is_data_user(application):
            return [AIS]
        grant = getattr(application, "authorization_grant_type", None)
        return list(DEFAULT_SCOPES_BY_GRANT.get(grant, ()))


class ConsentOAuth2Validator(OAuth2Validator):
    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        if grant_type not in ALLOWED_GRANT_TYPES:
            return False
        return super().validate_grant_type(client_id, grant_type, client, request, *args, **kwargs)

    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        if not redirect_uri_allowed(redirect_uri):
            return False
        return super().validate_redirect_uri(client_id, redirect_uri, request, *args, **kwargs)

    def get_default_redirect_uri(self, client_id, request, *args, **kwargs):
        uri = super().get_default_redirect_uri(client_id, request, *args, **kwargs)
        return uri if uri is not None and redirect_uri_allowed(uri) else None


TOKENS_REVOKED = EffectKind(
    "tokens_revoked",
    ngettext_lazy(
        "%(count)d app-toegang ingetrokken", "%(count)d app-toegangen ingetrokken", "count"
    ),
)


def revoke_customer_tokens(*, customer_id: int, at: Any, **_signal: Any) -> list[Effect]:
    """`lifecycle.signals.customer_closed`: a customer who left has no app any more. Their
    grants and tokens are revoked at once (django-oauth-toolkit does not look at the
    login being disabled when it checks a bearer token), and their linked apps end (the
    history says the bank revoked them when they left)."""
    from oauth2_provider.models import (
        get_access_token_model,
        get_grant_model,
        get_refresh_token_model,
    )

    from consent.models import Customer

    from .linked_apps import end_links_of_leaver

    user_id = Customer.objects.filter(pk=customer_id).values_list("user_id", flat=True)[0]
    get_grant_model().objects.filter(user_id=user_id).delete()
    get_refresh_token_model().objects.filter(user_id=user_id).delete()
    revoked, _ = get_access_token_model().objects.filter(user_id=user_id).delete()
    end_links_of_leaver(customer_id=customer_id, at=at)
    return [TOKENS_REVOKED(revoked)]

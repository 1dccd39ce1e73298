"""Registering OAuth clients and changing their redirect URIs, with four eyes.

A privacy officer proposes (`propose_client`, `propose_redirect_uris`); nothing takes
effect until another user with `api.approve_clientchange` approves it
(`approve_client_change`): until then a new client does not exist and an existing one
keeps its old redirect URIs. The proposer may withdraw (`reject_client_change`), never
approve; the database refuses that too. Every redirect URI must be on the allow-list
(`settings.OAUTH_REDIRECT_URI_ALLOWLIST`, api/redirects.py), when proposed, when approved
and at every authorization request (`api.oauth`).

`skip_authorization` (no consent screen for the customer) is set by nothing here: every
client asks the customer. The database refuses it for a client whose redirect URIs are
not all on the bank's own app scheme (migration 0006).
"""

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from oauth2_provider.generators import generate_client_id, generate_client_secret
from oauth2_provider.models import AbstractApplication, get_application_model
from oauth2_provider.settings import oauth2_settings

from .models import ClientChange, ClientChangeKind, ClientChangeStatus
from .redirects import is_allowed

if TYPE_CHECKING:
    from django.contrib.auth.models import User

APPROVE_PERMISSION = "api.approve_clientchange"
PROPOSE_PERMISSION = "api.add_clientchange"
# The two kinds of client of api/oauth.py: (client type, grant).
KINDS = {
    "app": (AbstractApplication.CLIENT_PUBLIC, AbstractApplication.GRANT_AUTHORIZATION_CODE),
    "system": (
        AbstractApplication.CLIENT_CONFIDENTIAL,
        AbstractApplication.GRANT_CLIENT_CREDENTIALS,
    ),
}


# Implicit, password, device and OpenID Connect clients: django-oauth-toolkit knows them,
# the API refuses them (api/oauth.py), so nobody registers one.
UNSUPPORTED_KIND = _(
    "De API kent alleen de app van de bank (authorization code met PKCE, publiek) en"
    " systemen van de bank (client credentials, vertrouwelijk); een andere soort client"
    " (impliciet, met wachtwoord, apparaatcode, OpenID Connect) wordt geweigerd."
)


class ClientChangeRefused(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Proposal:
    change: ClientChange
    client_secret: str | None  # a system's secret: shown once to the proposer, never stored


def redirect_uri_allowed(uri: str) -> bool:
    return is_allowed(uri, settings.OAUTH_REDIRECT_URI_ALLOWLIST)


def redirect_uri_problems(uris: list[str], *, grant: str) -> list[str]:
    """What is wrong with these redirect URIs for a client with this grant, in words."""
    if grant == AbstractApplication.GRANT_CLIENT_CREDENTIALS:
        return [_("Een systeem van de bank krijgt geen redirect-URI.")] if uris else []
    if not uris:
        return [_("De app heeft minstens één redirect-URI nodig.")]
    return [
        _(
            "%(uri)s staat niet op de lijst van toegestane redirect-URI's"
            " (OAUTH_REDIRECT_URI_ALLOWLIST): %(allowed)s."
        )
        % {"uri": uri, "allowed": ", ".join(settings.OAUTH_REDIRECT_URI_ALLOWLIST)}
        for uri in uris
        if not redirect_uri_allowed(uri)
    ]


def propose_client(
    *, name: str, kind: str, redirect_uris: list[str], by: "User", at: dt.datetime
) -> Proposal:
    if kind not in KINDS:
        raise ClientChangeRefused(UNSUPPORTED_KIND)
    client_type, grant = KINDS[kind]
    _check_may_propose(by)
    _check_uris(redirect_uris, grant=grant)
    # The app (a public client) never uses a secret: it gets one nobody is ever told.
    secret = generate_client_secret()
    change = ClientChange(
        kind=ClientChangeKind.REGISTER,
        client_id=generate_client_id(),
        name=name,
        client_type=client_type,
        authorization_grant_type=grant,
        redirect_uris=" ".join(redirect_uris),
        client_secret_hash=make_password(secret, hasher=oauth2_settings.CLIENT_SECRET_HASHER),
        proposed_by=by,
        proposed_at=at,
    )
    _validate_as_application(_application_for(change))
    change.save()
    shown = secret if client_type == AbstractApplication.CLIENT_CONFIDENTIAL else None
    return Proposal(change=change, client_secret=shown)


@transaction.atomic
def propose_redirect_uris(
    *, application_id: int, redirect_uris: list[str], by: "User", at: dt.datetime
) -> ClientChange:
    _check_may_propose(by)
    application = get_application_model().objects.select_for_update().get(pk=application_id)
    _check_uris(redirect_uris, grant=application.authorization_grant_type)
    if ClientChange.objects.filter(
        client_id=application.client_id, status=ClientChangeStatus.PENDING
    ).exists():
        raise ClientChangeRefused(
            _("Voor deze client wacht al een wijziging op goedkeuring. Beslis daar eerst over.")
        )
    change = ClientChange(
        kind=ClientChangeKind.REDIRECT_URIS,
        client_id=application.client_id,
        name=application.name,
        client_type=application.client_type,
        authorization_grant_type=application.authorization_grant_type,
        redirect_uris=" ".join(redirect_uris),
        previous_redirect_uris=application.redirect_uris,
        proposed_by=by,
        proposed_at=at,
    )
    _validate_as_application(_application_for(change, application))
    change.save()
    return change


@transaction.atomic
def approve_client_change(*, change_id: int, by: "User", at: dt.datetime) -> AbstractApplication:
    change = _pending(change_id)
    if by.pk == change.proposed_by_id:
        raise ClientChangeRefused(
            _("U kunt uw eigen voorstel niet goedkeuren: dat doet een andere privacy officer.")
        )
    if not by.has_perm(APPROVE_PERMISSION):
        raise ClientChangeRefused(_("U mag wijzigingen van API-clients niet goedkeuren."))
    # The allow-list may have changed since the proposal: it is the list of now that counts.
    _check_uris(change.redirect_uris.split(), grant=change.authorization_grant_type)
    Application = get_application_model()
    if change.kind == ClientChangeKind.REGISTER:
        application = _application_for(change)
    else:
        application = (
            Application.objects.select_for_update().filter(client_id=change.client_id).first()
        )
        if application is None:
            raise ClientChangeRefused(_("Deze client bestaat niet meer."))
        if application.redirect_uris != change.previous_redirect_uris:
            raise ClientChangeRefused(
                _(
                    "De redirect-URI's van deze client zijn intussen veranderd."
                    " Stel het opnieuw voor."
                )
            )
        application.redirect_uris = change.redirect_uris
    _validate_as_application(application)
    application.save()
    change.status = ClientChangeStatus.APPROVED
    change.decided_by = by
    change.decided_at = at
    change.save(update_fields=["status", "decided_by", "decided_at"])
    return application


@transaction.atomic
def reject_client_change(*, change_id: int, by: "User", at: dt.datetime) -> ClientChange:
    """Another officer rejects the proposal, or its proposer withdraws it."""
    change = _pending(change_id)
    if by.pk != change.proposed_by_id and not by.has_perm(APPROVE_PERMISSION):
        raise ClientChangeRefused(_("U mag wijzigingen van API-clients niet afwijzen."))
    change.status = ClientChangeStatus.REJECTED
    change.decided_by = by
    change.decided_at = at
    change.save(update_fields=["status", "decided_by", "decided_at"])
    return change


def _pending(change_id: int) -> ClientChange:
    change = ClientChange.objects.select_for_update().get(pk=change_id)
    if change.status != ClientChangeStatus.PENDING:
        raise ClientChangeRefused(_("Over deze wijziging is al besloten."))
    return change


def _check_may_propose(by: "User") -> None:
    if not by.has_perm(PROPOSE_PERMISSION):
        raise ClientChangeRefused(_("U mag geen API-clients voorstellen."))


def _check_uris(uris: list[str], *, grant: str) -> None:
    problems = redirect_uri_problems(uris, grant=grant)
    if problems:
        raise ClientChangeRefused(" ".join(str(problem) for problem in problems))


def _application_for(change: ClientChange, application=None) -> AbstractApplication:
    """The client as it will be once approved. Never skips the consent screen."""
    if application is None:
        application = get_application_model()(
            client_id=change.client_id,
            name=change.name,
            client_type=change.client_type,
            authorization_grant_type=change.authorization_grant_type,
            client_secret=change.client_secret_hash,
            hash_client_secret=True,
            algorithm=AbstractApplication.NO_ALGORITHM,
            skip_authorization=False,
        )
    application.redirect_uris = change.redirect_uris
    return application


def _validate_as_application(application: AbstractApplication) -> None:
    """The two kinds the API accepts, then django-oauth-toolkit's own checks (URI
    schemes and the like), as words."""
    kind = (application.client_type, application.authorization_grant_type)
    if kind not in KINDS.values() or application.algorithm != AbstractApplication.NO_ALGORITHM:
        raise ClientChangeRefused(UNSUPPORTED_KIND)
    try:
        application.full_clean(exclude=["client_secret", "user"], validate_unique=False)
    except ValidationError as error:
        raise ClientChangeRefused(" ".join(error.messages)) from None

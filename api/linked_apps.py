"""The apps a customer gave access to (authorization code with PKCE), and taking it back.

A `LinkedApp` row starts with the first token the app gets for the customer
(`record_authorisation`, on django-oauth-toolkit's `app_authorized`) and ends when the
customer revokes it on "Gekoppelde apps" (`revoke_app`) or leaves the bank
(`api.oauth.revoke_customer_tokens`). Revoking revokes every access and refresh token the
app holds for the customer, and every code not yet exchanged, at once, in the transaction
that ends the row: the next API request with its token is a 401.

The history (`/history/`) shows both ends of every row through
`consent.signals.history_entries`: consent does not know the API. These are not ledger
events: the ledger proves consent for purposes (with the text the customer read); letting
an app act for you is access to your account, not a choice about how the bank uses data,
and what the app then chooses is in the ledger already (channel `app`).

"Last used" is the last API request with one of the app's tokens, written at most once a
minute per app and customer (`note_use`): a cache key keeps the other requests of that
minute from touching the database, and the UPDATE's condition keeps it to once a minute
whatever the cache says (several processes).
"""

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Greatest
from django.shortcuts import get_object_or_404
from django.utils import translation
from django.utils.translation import gettext as _
from oauth2_provider.models import (
    AbstractApplication,
    get_access_token_model,
    get_grant_model,
    get_refresh_token_model,
)
from oauth2_provider.settings import oauth2_settings

from consent.dashboard import HistoryEntry
from consent.models import Customer
from infra.effects import Effect, EffectKind
from infra.precompiled import CUSTOMER_SAMPLES, Inputs, PrecompiledQuerySet, precompile_queryset

from .models import LinkedApp, RevokedBy

USE_RECORDED_EVERY = dt.timedelta(minutes=1)


# --- Writing -----------------------------------------------------------------------------------
def record_authorisation(
    *, customer_id: int, application_id: int, scope: str, at: dt.datetime
) -> None:
    """The app got a token for the customer: linked from now, unless it already is (a
    refreshed token, a second login in the app); what it may do is what its newest token
    may. A concurrent first token meets the unique index and adds nothing."""
    open_link = LinkedApp.objects.filter(
        customer_id=customer_id, application_id=application_id, revoked_at__isnull=True
    )
    if open_link.exclude(scope=scope).update(scope=scope) or open_link.exists():
        return
    try:
        with transaction.atomic():
            LinkedApp.objects.create(
                customer_id=customer_id,
                application_id=application_id,
                scope=scope,
                authorised_at=at,
            )
    except IntegrityError:
        pass  # another token request linked it a moment ago


def on_app_authorized(*, token: Any, **_signal: Any) -> None:
    """`oauth2_provider.signals.app_authorized`: a token was issued at the token endpoint.
    Only the bank's app acts for a customer; a system's token (no user) links nothing."""
    application = token.application
    if token.user_id is None or application is None:
        return
    if application.authorization_grant_type != AbstractApplication.GRANT_AUTHORIZATION_CODE:
        return
    customer_id = (
        Customer.objects.filter(user_id=token.user_id).values_list("pk", flat=True).first()
    )
    if customer_id is not None:
        record_authorisation(
            customer_id=customer_id,
            application_id=application.pk,
            scope=token.scope,
            at=token.created,
        )


def note_use(*, user_id: int, application_id: int, at: dt.datetime) -> None:
    """An API request with a customer's token: "last used" is now, at most once a minute."""
    key = f"linked-app-used:{user_id}:{application_id}"
    if not cache.add(key, 1, timeout=int(USE_RECORDED_EVERY.total_seconds())):
        return
    LinkedApp.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=at - USE_RECORDED_EVERY),
        customer__user_id=user_id,
        application_id=application_id,
        revoked_at__isnull=True,
    ).update(last_used_at=at)


class AlreadyRevoked(Exception):
    def __init__(self, link: LinkedApp):
        super().__init__(link.pk)
        self.link = link


def revoke_tokens(*, user_id: int, application_id: int) -> int:
    """Every token and code the app holds for this login, revoked with django-oauth-toolkit's
    own `revoke` (a refresh token is marked revoked and its access token deleted; an access
    token is deleted). Returns how many tokens went.

    Round after round until none is left: a refresh that holds a refresh token's lock when
    we ask for it commits a new pair first (we wait for it), which the next round sees."""
    refresh_tokens = get_refresh_token_model().objects.filter(
        user_id=user_id, application_id=application_id, revoked__isnull=True
    )
    access_tokens = get_access_token_model().objects.filter(
        user_id=user_id, application_id=application_id
    )
    revoked = 0
    with transaction.atomic():
        for _round in range(10):
            get_grant_model().objects.filter(
                user_id=user_id, application_id=application_id
            ).delete()
            # Refresh tokens first: each takes its access token along.
            found = list(refresh_tokens.select_for_update())
            for refresh_token in found:
                refresh_token.revoke()
            for access_token in access_tokens:  # without a refresh token, or left over
                access_token.revoke()
                found.append(access_token)
            if not found:
                break
            revoked += len(found)
    return revoked


@transaction.atomic
def revoke_app(*, customer: Customer, link_id: int, at: dt.datetime) -> LinkedApp:
    """The customer takes the app's access back: every token of it at once, and the row
    ends (the history shows it). Another customer's link is a 404; a link already ended
    (a second tab, a second click) raises `AlreadyRevoked` and changes nothing."""
    link = get_object_or_404(
        # Only this row: not the app's, which every customer's revocation would wait on.
        LinkedApp.objects.select_for_update(of=("self",)).select_related("application"),
        pk=link_id,
        customer=customer,
    )
    if link.revoked_at is not None:
        raise AlreadyRevoked(link)
    revoke_tokens(user_id=customer.user_id, application_id=link.application_id)
    link.revoked_at = max(at, link.authorised_at)
    link.revoked_by = RevokedBy.CUSTOMER
    link.save(update_fields=["revoked_at", "revoked_by"])
    return link


def end_links_of_leaver(*, customer_id: int, at: dt.datetime) -> int:
    """The customer left: every open link ends (their tokens are revoked by the caller)."""
    return LinkedApp.objects.filter(customer_id=customer_id, revoked_at__isnull=True).update(
        revoked_at=Greatest(Value(at), F("authorised_at")), revoked_by=RevokedBy.LEFT_BANK
    )


LINKS_REMOVED = EffectKind("linked_apps")


def remove_links(*, customer_id: int, **_signal: Any) -> list[Effect]:
    """`lifecycle.signals.proof_removed`: the customer's history goes with their consent
    chain, the apps they linked included (the history page promises it goes then)."""
    removed, _ = LinkedApp.objects.filter(customer_id=customer_id).delete()
    return [LINKS_REMOVED(removed)]


# --- Reading -----------------------------------------------------------------------------------
def scope_texts(scope: str) -> list[str]:
    """What a token's scopes let the app do, in plain words (the consent screen's texts),
    in the active language."""
    texts = oauth2_settings.SCOPES
    names = set(scope.split())
    return [str(text) for name, text in texts.items() if name in names]


@dataclass(frozen=True)
class LinkedAppCard:
    link: LinkedApp
    scopes: list[str]  # what it may do, in plain words, in the page's language
    # It still holds a token that works (the app may have signed out by revoking its own,
    # RFC 7009, or not been used for longer than a refresh token lasts).
    holds_token: bool

    @property
    def name(self) -> str:
        return self.link.application.name


def linked_apps(customer: Customer, *, at: dt.datetime) -> list[LinkedAppCard]:
    """The customer's open links, newest first, and whether each still holds a token that
    works at `at`. One query."""
    same_holder = {"user_id": customer.user_id, "application_id": OuterRef("application_id")}
    access = get_access_token_model().objects.filter(**same_holder, expires__gt=at)
    refresh = get_refresh_token_model().objects.filter(**same_holder, revoked__isnull=True)
    if oauth2_settings.REFRESH_TOKEN_EXPIRE_SECONDS:
        lasts = dt.timedelta(seconds=oauth2_settings.REFRESH_TOKEN_EXPIRE_SECONDS)
        refresh = refresh.filter(created__gt=at - lasts)
    links = (
        LinkedApp.objects.filter(customer=customer, revoked_at__isnull=True)
        .select_related("application")
        .annotate(holds_token=Exists(access) | Exists(refresh))
        .order_by("-authorised_at", "-pk")
    )
    return [
        LinkedAppCard(link=link, scopes=scope_texts(link.scope), holds_token=link.holds_token)
        for link in links
    ]


def get_link_for_customer(customer: Customer, link_id: int) -> LinkedApp:
    """The customer's own link, or 404: another customer's does not exist for them."""
    return get_object_or_404(
        LinkedApp.objects.select_related("application"), pk=link_id, customer=customer
    )


def history_entries(*, customer: Customer, language: str, **_signal: Any) -> list[HistoryEntry]:
    """`consent.signals.history_entries`: both ends of every link, in `language`."""
    entries = []
    links = _links().instances({"customer_id": customer.pk})
    with translation.override(language):
        for link in links:
            title = _("App ‘%(name)s’") % {"name": link.application.name}
            entries.append(
                HistoryEntry(
                    at=link.authorised_at,
                    anchor=f"app-{link.pk}-authorised",
                    title=title,
                    what=_("kreeg toegang"),
                    how=_("u gaf toegang in de app"),
                    ended=False,
                )
            )
            if link.revoked_at is not None:
                how = (
                    _("door u, op de pagina Gekoppelde apps")
                    if link.revoked_by == RevokedBy.CUSTOMER
                    else _("door de bank, toen u geen klant meer was")
                )
                entries.append(
                    HistoryEntry(
                        at=link.revoked_at,
                        anchor=f"app-{link.pk}-revoked",
                        title=title,
                        what=_("toegang ingetrokken"),
                        how=how,
                        ended=True,
                    )
                )
    return entries


@functools.cache
def _links() -> PrecompiledQuerySet:
    """Every link of the customer, ended ones too, oldest first, with its app: the
    history's and the export's read, its SQL compiled once per process
    (`infra.precompiled`; compiling it on every request was about 0.25 ms of CPU, issue
    #24, for customers who mostly have no link at all)."""

    def build(inputs: Inputs) -> QuerySet:
        return (
            LinkedApp.objects.filter(customer_id=inputs["customer_id"])
            .select_related("application")
            .order_by("authorised_at", "pk")
        )

    return precompile_queryset(build, CUSTOMER_SAMPLES)


# --- The export ----------------------------------------------------------------------------------
def export_sections(
    *, customer: Customer, language: str | None = None, **_signal: Any
) -> list[tuple[str, object]]:
    """`consent.signals.export_sections`: every app the customer let in, ended ones too."""
    return [("linked_apps", _links_for_export(customer, language))]


def _links_for_export(customer: Customer, language: str | None):
    for link in _links().instances({"customer_id": customer.pk}):
        item: dict[str, object] = {
            "id": link.pk,
            "app": link.application.name,
            "scopes": link.scope.split(),
            "authorised_at": _iso(link.authorised_at),
            "last_used_at": _iso(link.last_used_at),
            "revoked_at": _iso(link.revoked_at),
            "revoked_by": link.revoked_by or None,
        }
        if language:
            with translation.override(language):
                item["scope_texts"] = scope_texts(link.scope)
                ended_by = RevokedBy(link.revoked_by).label if link.revoked_by else ""
                item["revoked_by_text"] = str(ended_by)
        yield item


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat() if moment else None

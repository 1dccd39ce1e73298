"""The login clock of a session: when its user logged in, and when it was last used. The
session limits (config/sessions.py) end a session on it; a page that asks for the password
again unless the login was recent (erasure) reads it with `logged_in_recently`.

And the session store itself (`SESSION_ENGINE`): Django's database store, with its read
compiled once per process."""

import datetime as dt
import functools
import time
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db.models import QuerySet
from django.dispatch import receiver
from django.utils import timezone

from .precompiled import Inputs, Precompiled, precompile, sample_moments

LOGIN_AT = "login_at"
SEEN_AT = "seen_at"


@receiver(user_logged_in)
def start_session_clock(sender, request, user, **kwargs):
    now = time.time()
    request.session[LOGIN_AT] = now
    request.session[SEEN_AT] = now


def logged_in_recently(session, *, at: dt.datetime) -> bool:
    """The login of this session was at most RECENT_LOGIN_SECONDS before `at`."""
    login_at = session.get(LOGIN_AT)
    return login_at is not None and at.timestamp() - login_at <= settings.RECENT_LOGIN_SECONDS


# --- The session store --------------------------------------------------------------------
# Every page a customer opens reads their session first. Django's store builds and compiles
# an ORM queryset for it on each request (`Session.objects.get(...)`): 0.2 to 0.3 ms of
# CPU, a fifth of the whole floor of a request (issue #24, `python -m bench.cpu`). The
# queryset below stays the definition; its SQL is compiled once per process
# (`infra.precompiled`) and each request only fills in the key and the moment.
def _live_session(inputs: Inputs) -> QuerySet:
    return Session.objects.filter(
        session_key=inputs["session_key"], expire_date__gt=inputs["at"]
    ).values_list("session_data")


@functools.cache
def _live_session_query() -> Precompiled:
    first, second = sample_moments()
    return precompile(
        _live_session,
        ({"session_key": "sample-one", "at": first}, {"session_key": "sample-two", "at": second}),
    )


class SessionStore(db.SessionStore):
    """Django's database session store (`SESSION_ENGINE = "infra.sessions"`); only the
    read of a live session is precompiled."""

    def load(self) -> dict[str, Any]:
        if self.session_key is None:
            return {}
        rows = _live_session_query().rows({"session_key": self.session_key, "at": timezone.now()})
        if not rows:
            # As Django's store: an unknown or expired key is forgotten, so that a save
            # makes a new one (never the key the browser sent).
            self._session_key = None
            return {}
        return self.decode(rows[0][0])

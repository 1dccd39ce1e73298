"""The login clock of a session: when its user logged in, and when it was last used. The
session limits (config/sessions.py) end a session on it; a page that asks for the password
again unless the login was recent (erasure) reads it with `logged_in_recently`."""

import datetime as dt
import time

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

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

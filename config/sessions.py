"""Sessions end after SESSION_IDLE_SECONDS without a request and SESSION_MAX_SECONDS
after login, whatever happens in between (the login clock: infra/sessions.py). The
cookie is a browser session cookie (SESSION_EXPIRE_AT_BROWSER_CLOSE).

Use extends the session, but at most once a minute: saving it on every request would be a
database write per page. The database's own expiry (SESSION_COOKIE_AGE, moved on by
each save) agrees with the idle limit.
"""

import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout

from config.logging import USER_ID_KEY
from infra.sessions import LOGIN_AT, SEEN_AT

REFRESH_SECONDS = 60


def session_limits(get_response):
    def middleware(request):
        session = request.session
        if SESSION_KEY in session:
            # For the log lines (config/logging.py): the user id, never the username.
            request.META[USER_ID_KEY] = session[SESSION_KEY]
            now = time.time()
            login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
            if (
                login_at is None
                or seen_at is None
                or now - login_at > settings.SESSION_MAX_SECONDS
                or now - seen_at > settings.SESSION_IDLE_SECONDS
            ):
                logout(request)
            elif now - seen_at > REFRESH_SECONDS:
                session[SEEN_AT] = now
        return get_response(request)

    return middleware

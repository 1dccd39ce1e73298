"""`make run` on a developer's machine: the pages as a bank ships them (DEBUG off: the
designed 404, 403 and CSRF answers, no debug toolbar of django-htmx), with the demo's
conveniences stated one by one below instead of riding on DEBUG."""

from .base import *  # noqa: F403
from .base import BASE_DIR, MIDDLEWARE, OAUTH_REDIRECT_URI_ALLOWLIST, SECRET_KEY

# Off, as in production: a newcomer sees the designed pages and failure handling. Turn it
# on by hand (DEBUG = True here) only to read a traceback in the browser.
DEBUG = False
# A key that is not secret: sessions of the demo only.
SECRET_KEY = SECRET_KEY or "dev-only-not-secret-" + "x" * 40
# Demo data with published passwords may be loaded; staff skip the second factor (the
# admin and its login page say so).
DEMO_MODE = True
STAFF_OTP_REQUIRED = False
# Besides the bank's app: a web client tried on the developer's own machine (https).
OAUTH_REDIRECT_URI_ALLOWLIST = [*OAUTH_REDIRECT_URI_ALLOWLIST, "https://localhost/"]

# Static files without DEBUG: WhiteNoise serves them, as in production (`make run` runs
# collectstatic first). Straight from the sources too, so an edited CSS or JS file shows
# on the next reload without collecting again.
MIDDLEWARE = [MIDDLEWARE[0], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[1:]]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Webhooks may go to a receiver on this machine over plain http (never in production).
WEBHOOK_ALLOW_LOCAL_HTTP = True
# E-mails to customers (advance notices) are written as files into .sent_mail/, one per
# message, never sent.
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "OPTIONS": {"file_path": str(BASE_DIR / ".sent_mail")},
    }
}

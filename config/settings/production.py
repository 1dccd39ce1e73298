import os

from django.core.exceptions import ImproperlyConfigured
from psycopg_pool import ConnectionPool

from api.redirects import parse_allowlist
from config.env import env_bool, env_int
from infra.database import SHARED_CACHE_TABLE, database_settings

from .base import *  # noqa: F403
from .base import CACHES, MIDDLEWARE, OAUTH_REDIRECT_URI_ALLOWLIST

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production.")

DEBUG = False
ALLOWED_HOSTS = [
    host
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if host
]
CSRF_TRUSTED_ORIGINS = [
    origin for origin in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if origin
]

# Where OAuth clients may send customers back to: white space or comma separated entries,
# each an app's scheme (`nl.voorbeeldbank.app:`), an https prefix ending in `/` or an exact
# https URI; anything else stops the start. Unset: only the bank's app.
OAUTH_REDIRECT_URI_ALLOWLIST = parse_allowlist(
    os.environ.get("OAUTH_REDIRECT_URI_ALLOWLIST") or " ".join(OAUTH_REDIRECT_URI_ALLOWLIST),
    name="OAUTH_REDIRECT_URI_ALLOWLIST",
)

# Django's psycopg pool, one per process (CONN_MAX_AGE is 0 with it). Each connection is
# checked before use, so after a database restart a broken one is replaced, not served.
# DB_POOL_SIZE x processes must stay below the server's max_connections (100).
DATABASES = {
    "default": database_settings(
        pool={
            "min_size": 2,
            "max_size": env_int("DB_POOL_SIZE", default=8, minimum=1),
            "timeout": 5,
            "check": ConnectionPool.check_connection,
        }
    )
}

# The shared cache is a table in the database (Django's DatabaseCache; the table is made
# by infra's migration 0001, so `migrate` is all a deploy runs): every web host counts the
# API's rate limits in the same rows, where one memory per process let each of N processes
# allow the whole limit. It holds only those counts: per token holder (the client's id and
# the customer's user id, never a customer number) the times of their requests in the last
# window, a minute. Never sessions (those are rows of their own). Past MAX_ENTRIES a write
# first deletes the expired rows.
CACHES = {
    **CACHES,
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": SHARED_CACHE_TABLE,
        "OPTIONS": {"MAX_ENTRIES": 10_000},
    },
}

# WhiteNoise serves static files with hashed names and pre-compressed copies.
MIDDLEWARE = [MIDDLEWARE[0], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[1:]]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# TLS is terminated by the reverse proxy in front (see README). `make serve` on loopback
# sets DJANGO_SECURE_SSL_REDIRECT=false; everything else stays on.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_SAMESITE = "Lax"
if env_bool("DJANGO_BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "config.logging.JsonFormatter"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["stdout"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

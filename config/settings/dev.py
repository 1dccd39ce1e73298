"""`make run` on a developer's machine: demo data, and a key that is not secret."""

from .base import *  # noqa: F403
from .base import OAUTH_REDIRECT_URI_ALLOWLIST, SECRET_KEY

DEBUG = True
SECRET_KEY = SECRET_KEY or "dev-only-not-secret-" + "x" * 40
# Demo data with published passwords may be loaded; staff skip the second factor (the
# admin says so in its header).
DEMO_MODE = True
STAFF_OTP_REQUIRED = False
# Besides the bank's app: a web client tried on the developer's own machine (https).
OAUTH_REDIRECT_URI_ALLOWLIST = [*OAUTH_REDIRECT_URI_ALLOWLIST, "https://localhost/"]

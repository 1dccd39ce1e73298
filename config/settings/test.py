from .base import *  # noqa: F403

# Hashing demo passwords with PBKDF2 dominates test time; the algorithm is not under test.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    # For users who log in to a production-settings server started by a test.
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
ALLOWED_HOSTS = ["*"]

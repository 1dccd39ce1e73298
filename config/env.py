"""Reading settings from the environment. A value that cannot be read stops the start.

`true`/`false` are not the only spellings people use (`True`, `1`, `yes`), and a typo must
not silently switch a safety setting off: every boolean and number goes through here.
"""

import os

from django.core.exceptions import ImproperlyConfigured

TRUE = frozenset({"true", "1", "yes", "on"})
FALSE = frozenset({"false", "0", "no", "off"})


def env_bool(name: str, *, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    word = value.strip().lower()
    if word in TRUE:
        return True
    if word in FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={value!r} is not a boolean: use true or false (also 1/0, yes/no, on/off)."
    )


def env_int(name: str, *, default: int, minimum: int = 0) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value.strip())
    except ValueError:
        number = None
    if number is None or number < minimum:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number >= {minimum}.")
    return number


def env_list(name: str) -> list[str]:
    """Items separated by commas or white space (keys and URLs contain neither)."""
    return os.environ.get(name, "").replace(",", " ").split()

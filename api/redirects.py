"""Where an OAuth client may send a customer back to: the allow-list of the settings
(`OAUTH_REDIRECT_URI_ALLOWLIST`), checked when a client is proposed, when it is approved
and at every authorization request.

An entry is one of:

- `scheme:` — a private-use URI scheme of the bank's own app (RFC 8252 §7.1: a reversed
  domain name, so it has a dot, and is never http or https): any URI of that scheme;
- `https://host[:port]/path/`, ending in `/` — any https URI under that path;
- `https://host[:port]/path` — exactly that URI.

No wildcards, no query or fragment, no user name. A redirect URI is compared after it is
found well formed (no fragment, no user name, no `..` nor an encoded dot, slash or
backslash, no white space), so that a prefix cannot be escaped. Plain Python: production
settings parse the environment with it before Django is set up.
"""

import re
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

APP_SCHEME = re.compile(r"^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+$")
HOST = re.compile(
    r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?$"
)
# Percent-encoded dot, slash and backslash: a path that means more than it shows.
ENCODED_TRICKS = re.compile(r"%(2e|2f|5c)", re.IGNORECASE)


def parse_allowlist(text: str, *, name: str) -> list[str]:
    """Entries separated by white space or commas; a bad one stops the start, named."""
    entries = [entry for entry in re.split(r"[\s,]+", text.strip()) if entry]
    for entry in entries:
        problem = entry_problem(entry)
        if problem:
            raise ImproperlyConfigured(f"{name}: {entry!r} {problem}.")
    return entries


def entry_problem(entry: str) -> str | None:
    if entry.endswith(":"):
        scheme = entry[:-1]
        if not APP_SCHEME.match(scheme) or scheme in ("http", "https"):
            return "is no private-use scheme of an app (a reversed domain name, e.g. nl.bank.app:)"
        return None
    parts = urlsplit(entry)
    if parts.scheme != "https":
        return "is neither an app's scheme (ending in ':') nor an https URI"
    if not HOST.match(parts.netloc):
        return "names no plain host (no user name, no wildcard)"
    if not parts.path.startswith("/"):
        return "has no path: end it in '/' to allow everything under it"
    if parts.query or parts.fragment or "#" in entry or "?" in entry:
        return "has a query or fragment"
    if not well_formed(entry):
        return "is not a plain URI"
    return None


def well_formed(uri: str) -> bool:
    if not uri or any(c.isspace() or ord(c) < 32 for c in uri) or "\\" in uri or "#" in uri:
        return False
    if ENCODED_TRICKS.search(uri):
        return False
    parts = urlsplit(uri)
    if "@" in parts.netloc:
        return False
    return ".." not in parts.path.split("/")


def is_allowed(uri: str, allowlist: list[str]) -> bool:
    if not well_formed(uri):
        return False
    scheme = urlsplit(uri).scheme
    for entry in allowlist:
        if entry.endswith(":") and not entry.startswith("https:"):
            if scheme == entry[:-1]:
                return True
        elif entry.endswith("/"):
            if uri.startswith(entry):
                return True
        elif uri == entry:
            return True
    return False

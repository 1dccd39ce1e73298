"""The client's address, as the trusted reverse proxy saw it.

Behind the README's proxy every request comes from 127.0.0.1; the proxy appends the
address it saw to `X-Forwarded-For`. With `DJANGO_TRUSTED_PROXY_COUNT=N` the client is the
N-th address from the right (each trusted proxy appends one; whatever the client itself
sent is further left and ignored). With 0 (the default) `X-Forwarded-For` is never read.
Used for login throttling (django-axes), the login limit per address and the logs.
"""

import ipaddress

from config.env import env_int


def trusted_proxy_count() -> int:
    return env_int("DJANGO_TRUSTED_PROXY_COUNT", default=0)


def client_address(meta, *, proxies: int) -> str:
    remote = meta.get("REMOTE_ADDR") or ""
    if proxies <= 0:
        return remote
    hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in hops if hop]
    if len(hops) < proxies:
        return remote  # did not come through the proxies (a health check on loopback)
    candidate = hops[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def request_client(request) -> str:
    """AXES_CLIENT_IP_CALLABLE, and the `client` of every log line."""
    from django.conf import settings

    return client_address(request.META, proxies=settings.TRUSTED_PROXY_COUNT)

"""One JSON object per log line on stdout, for whatever collects the container's output.

Every line goes through `JsonFormatter` (`json.dumps`, so a `\\`, a quote or a newline in a
path cannot break a line): Django's and gunicorn's, the access log included
(`GunicornLogger`, set in config/gunicorn.py). Request lines carry the client address as
the trusted proxy saw it (config/clientip.py) and the user id, never a username: customer
numbers are usernames. IBANs and e-mail addresses are masked in anything logged.

A URL carries identifiers too: a customer number in the staff's customer page
(`/admin/consent/customer/100001/change/`), an event or offer id in the customer's. A
logged path is therefore the URL pattern it matched, every captured value replaced by
its name (`/admin/consent/customer/[object_id]/change/`), in the access log and in
Django's request lines ("Not Found: …") alike. A path that no pattern matches keeps its
words but loses every run of four or more digits.
"""

import datetime as dt
import json
import logging
import re

from gunicorn import glogging

from config.clientip import client_address, request_client, trusted_proxy_count

# Set by config.sessions.session_limits on the WSGI environ (Django's request.META).
USER_ID_KEY = "consent.user_id"
IBAN = re.compile(r"\b[A-Z]{2}[0-9]{2}(?:\s?[A-Z0-9]){11,30}\b")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
FIELDS = ("method", "path", "status_code", "duration_ms", "client", "user_id")
DIGITS = re.compile(r"[0-9]{4,}")
# In a matched route: a path converter (`<int:event_id>`, `<id>`), a named regex group
# (the admin's `(?P<app_label>...)`; its end is found by counting parentheses), and the
# anchors of a regex route.
CONVERTER = re.compile(r"<(?:[^<>:]+:)?([^<>:]+)>")
GROUP_START = re.compile(r"\(\?P<([^>]+)>")
ANCHORS = re.compile(r"^\^|\$$|\\Z$")


def masked(text: str) -> str:
    return EMAIL.sub("[e-mail]", IBAN.sub("[iban]", text))


def masked_path(path: str) -> str:
    """The path as logged: its URL pattern with each captured value's name, or, for a
    path no pattern matches, the path without IBANs, e-mail addresses and digit runs."""
    route = _route(path)
    if route is None:
        return DIGITS.sub("[n]", masked(path))
    return "/" + _route_text(route)


def _route(path: str) -> str | None:
    try:
        from django.urls import resolve

        return resolve(path).route
    except Exception:  # a 404, or no Django here: a log line must never fail
        return None


def _route_text(route: str) -> str:
    """`admin/(?P<app_label>a|b)/$` -> `admin/[app_label]/`; `x/<int:id>/` -> `x/[id]/`."""
    out, at = [], 0
    for start in GROUP_START.finditer(route):
        if start.start() < at:
            continue  # inside a group already replaced
        out.append(route[at : start.start()])
        depth, end = 1, start.end()
        while end < len(route) and depth:
            depth += {"(": 1, ")": -1}.get(route[end], 0)
            end += 1
        out.append(f"[{start.group(1)}]")
        at = end
    out.append(route[at:])
    return CONVERTER.sub(r"[\1]", ANCHORS.sub("", "".join(out)))


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "at": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": masked(record.getMessage()),
        }
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "META"):
            # Django's own request logging (django.request, django.security.*).
            path = masked_path(request.path_info)
            # "Not Found: <path>" and its kin: the message names the path too.
            entry["message"] = masked(record.getMessage().replace(request.path, path))
            entry["method"] = request.method
            entry["path"] = path
            entry["client"] = request_client(request)
            entry["user_id"] = request.META.get(USER_ID_KEY)
        for key in FIELDS:
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if isinstance(record.__dict__.get("path"), str):
            entry["path"] = masked_path(record.__dict__["path"])
        if record.exc_info:
            entry["exception"] = masked(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class GunicornLogger(glogging.Logger):
    """gunicorn's error and access logs, formatted by JsonFormatter."""

    def setup(self, cfg):
        super().setup(cfg)
        # Read once: the access log writes a line per request.
        self.proxies = trusted_proxy_count()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        self.access_log.info(
            "request",
            extra={
                "method": environ.get("REQUEST_METHOD"),
                "path": environ.get("PATH_INFO"),
                "status_code": int(status),
                "duration_ms": request_time.seconds * 1000 + request_time.microseconds // 1000,
                "client": client_address(environ, proxies=self.proxies),
                "user_id": environ.get(USER_ID_KEY),
            },
        )

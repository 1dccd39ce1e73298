"""The customers' pages are Jinja2 templates (`jinja/`), rendered through Django's own
backend; the admin stays on Django's template language (`templates/`).

Why: a customer's dashboard is about 200 template nodes and 30 translations, and Django's
template engine spent about 85% of the page's CPU interpreting them; Jinja2 compiles each
template to Python once (issue #24, `python -m bench.cpu`, figures in docs/scaling.md).

What the pages may use is listed here, nothing else: Django's `url` and `static`, `_` for
Django's translations, and the date, time and money filters the old templates had. Dates
are shown in the current time zone, as Django's `date` filter does in its own templates.

Translations are made when a template is compiled, once per language: each language has
its own environment (`Jinja2.env`), whose `TranslatedLiterals` turns `_("…")` of a literal
into the translated literal. A page prints about 130 of them, each a function call of
~4 µs at render time otherwise. `makemessages` reads each `{{ _("…") }}` as it reads
`{% translate %}` (it reads Jinja templates with Django's template reader: a `_("…")`
must open its `{{ … }}`); a plural is written in Python with `ngettext` (consent/wording.py).
"""

import datetime as dt
import functools

from django.conf import settings
from django.contrib.messages import get_messages
from django.middleware.csrf import get_token
from django.template import defaultfilters
from django.template.backends import jinja2 as jinja2_backend
from django.templatetags.static import static
from django.urls import get_script_prefix, reverse
from django.utils import timezone, translation
from django.utils.functional import SimpleLazyObject
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]
from jinja2 import Environment, pass_context
from jinja2.ext import Extension
from jinja2.lexer import TOKEN_LPAREN, TOKEN_NAME, TOKEN_RPAREN, TOKEN_STRING, Token

from consent import published_texts, wording
from consent.channels import CHANNEL_PURPOSES
from consent.templatetags import consent_tags


def url(name, *args):
    # A page names about 35 addresses; Django's reverse costs ~17 µs each (issue #24).
    return _reversed(get_script_prefix(), name, args)


@functools.lru_cache(maxsize=4096)
def _reversed(prefix, name, args):
    # The prefix is part of the key: an address made under another mount point differs.
    return reverse(name, args=args or None)


def csrf(request):
    """A context processor: one masked CSRF token per page, as Django's own templates
    have, not one per form (the Jinja2 backend's `csrf_input` masks it anew, with 32
    random characters, each time a form prints it)."""
    token = SimpleLazyObject(lambda: get_token(request))
    return {
        "csrf_token": token,
        "csrf_input": SimpleLazyObject(
            lambda: format_html(
                '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token
            )
        ),
    }


def date(value, format_string=None):
    """Django's `date` filter on the moment in the current time zone (as `{{ x|date }}`)."""
    if isinstance(value, dt.datetime) and format_string in _DAY_FORMATS:
        return _day(template_localtime(value), format_string)
    if isinstance(value, dt.datetime) and format_string == "c":
        # A `<time datetime>` per line of the history: Django's `c` is `isoformat()`.
        return template_localtime(value).isoformat()
    if isinstance(value, dt.date) and format_string == "j F Y":
        return _day(value, format_string)
    return _formatted(defaultfilters.date, value, format_string, *_locale())


# The two formats the pages print most, written out (`consent.wording.day_text`).
_DAY_FORMATS = ("j F Y", "j F Y, H:i")


def _day(value, format_string):
    return wording.day_text(
        value, language=translation.get_language(), with_time=format_string != "j F Y"
    )


def time(value, format_string=None):
    return _formatted(defaultfilters.time, value, format_string, *_locale())


def _locale():
    return translation.get_language(), timezone.get_current_timezone_name()


# ~15 µs each, about 25 on a dashboard, most of them the same few days (a text's date,
# today's); the language and the time zone are part of the key.
@functools.lru_cache(maxsize=4096)
def _formatted(how, value, format_string, language, zone):
    return how(template_localtime(value), format_string)


@pass_context
def how_recorded(context, event):
    return consent_tags.how_recorded(context, event)


FILTERS = {
    "date": date,
    "time": time,
    "capfirst": capfirst,
    "money": consent_tags.money,
    "iban": consent_tags.iban,
    "moment": consent_tags.moment,
    "day": consent_tags.day,
    "renewal": consent_tags.renewal,
}

GLOBALS = {
    "url": url,
    # The hashed names are fixed for a deployment (the manifest): looked up once each.
    "static": functools.cache(static),
    "get_messages": get_messages,
    "how_recorded": how_recorded,
    "notice_text": consent_tags.notice_text,
    "in_language": consent_tags.in_active_language,
    "notice_hash": consent_tags.notice_hash,
    "bank_phone": consent_tags.bank_phone,
    "choices_on": wording.choices_on,
    "expired_by_age": wording.expired_by_age,
    # A version's texts and facts on its card, rendered once per version and language.
    "published_facts": published_texts.published_facts,
    # Which purposes are contact channels: the dashboard shows them in a section of their own.
    "channel_purposes": CHANNEL_PURPOSES,
}


def environment(*, autoescape=True, **options):
    # Always escaped, whatever the settings say.
    env = Environment(autoescape=True, **options)
    env.filters.update(FILTERS)
    env.globals.update(GLOBALS)
    # A `_` the compiler could not translate (not a literal): at render time.
    env.globals["_"] = translation.gettext
    return env


class TranslatedLiterals(Extension):
    """`_("a literal")` is compiled as the literal translated into the environment's
    `language` (Django's catalogues, at compile time)."""

    def filter_stream(self, stream):
        window: list[Token] = []
        for token in stream:
            window.append(token)
            if len(window) == 4 and [t.type for t in window] == PATTERN and window[0].value == "_":
                with translation.override(self.environment.language):  # type: ignore[attr-defined]
                    text = translation.gettext(window[2].value)
                window = [Token(window[0].lineno, TOKEN_STRING, text)]
            if len(window) == 4:
                yield window.pop(0)
        yield from window


PATTERN = [TOKEN_NAME, TOKEN_LPAREN, TOKEN_STRING, TOKEN_RPAREN]


class Jinja2(jinja2_backend.Jinja2):
    """Django's Jinja2 backend with an environment per language: Django's backend asks
    `self.env` for every template, and gets the active language's."""

    @property
    def env(self):
        return self._by_language.get(translation.get_language(), self._env)

    @env.setter
    def env(self, value):
        self._env = value
        self._by_language = {}
        for code, _name in settings.LANGUAGES:
            overlay = value.overlay(extensions=[TranslatedLiterals])
            overlay.extend(language=code)
            self._by_language[code] = overlay

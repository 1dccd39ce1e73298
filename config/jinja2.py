"""The customers' pages are Jinja2 templates (`jinja/`), rendered through Django's own
backend; the admin stays on Django's template language (`templates/`).

Why: a customer's dashboard is about 200 template nodes and 30 translations, and Django's
template engine spent about 85% of the page's CPU interpreting them; Jinja2 compiles each
template to Python once (issue #24, `python -m bench.cpu`, figures in docs/scaling.md).

What the pages may use is listed here, nothing else: Django's `url`, `static`, the CSP
nonce'd htmx script, gettext as `_` (Django's catalogues: `makemessages` reads each
`{{ _("…") }}` as it reads `{% translate %}`; a plural is written in Python, with
`ngettext`), and the date, time and money filters the old templates had. Dates are shown
in the current time zone, as Django's `date` filter does in its own templates.
"""

from django.template import defaultfilters
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.text import capfirst
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]
from django_htmx.jinja import htmx_script
from jinja2 import Environment, pass_context

from consent.templatetags import consent_tags


def url(name, *args, **kwargs):
    return reverse(name, args=args or None, kwargs=kwargs or None)


def date(value, format_string=None):
    """Django's `date` filter on the moment in the current time zone (as `{{ x|date }}`)."""
    return defaultfilters.date(template_localtime(value), format_string)


def time(value, format_string=None):
    return defaultfilters.time(template_localtime(value), format_string)


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
    "static": static,
    "htmx_script": htmx_script,
    "how_recorded": how_recorded,
    "notice_text": consent_tags.notice_text,
    "in_language": consent_tags.in_active_language,
    "notice_hash": consent_tags.notice_hash,
    "bank_phone": consent_tags.bank_phone,
}


def environment(*, autoescape=True, **options):
    # Always escaped, whatever the settings say.
    env = Environment(autoescape=True, extensions=["jinja2.ext.i18n"], **options)
    # Django's translations, switched per request by LocaleMiddleware.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        translation.gettext, translation.ngettext, newstyle=False
    )
    env.filters.update(FILTERS)
    env.globals.update(GLOBALS)
    return env

"""What a published text says on a card, as HTML: rendered once per process for each
version and language.

A card's "Meer over dit doel" (and a required purpose's details) print the version's
texts and facts: the same for every customer who reads that version in that language,
and a stored version never changes (the `published_versions_are_immutable` trigger).
They are about half of a card's rendering, and a dashboard has eight cards, so each is
rendered once and kept (issue #24).

Nothing of a customer can get in: the template is given a card made of the version
alone (no state, no customer, no request), and the key is everything else it reads.
"""

from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils import translation
from markupsafe import Markup

from .dashboard import Card

# The rendered facts per (version, its publication, legal basis, text language, page
# language, script prefix). Small: a few versions per purpose, two languages.
_RENDERED: dict[tuple, Markup] = {}
_MOST = 512


def published_facts(card: Card) -> Markup:
    version, purpose = card.version, card.purpose
    key = (
        version.pk,
        version.published_at,
        purpose.legal_basis,
        card.language,
        translation.get_language(),
        get_script_prefix(),
    )
    html = _RENDERED.get(key)
    if html is None:
        public = Card(
            purpose=purpose, version=version, state=None, is_valid=False, language=card.language
        )
        # Safe: a template of the environment that always escapes (config/jinja2.py).
        rendered = render_to_string("consent/published_facts.html", {"card": public})
        html = Markup(rendered)  # noqa: S704
        if version.pk is None:  # not stored, so it might still change: never kept
            return html
        if len(_RENDERED) >= _MOST:
            _RENDERED.clear()
        _RENDERED[key] = html
    return html

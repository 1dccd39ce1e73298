"""The two languages of every text: Dutch (the default) and English.

Texts are stored twice, as `<field>_nl` and `<field>_en`, or keyed "nl"/"en"; these two
functions are the only place that decides which one a reader gets.
"""

from typing import Any

from django.utils.translation import get_language


def text_language(language: str | None) -> str:
    """ "en" for any English language code, otherwise "nl": Dutch is the default."""
    return "en" if (language or "").startswith("en") else "nl"


def in_language(obj: Any, field: str, language: str | None = None) -> Any:
    """`obj.<field>_nl` or `obj.<field>_en`, in `language` (default: the active one)."""
    suffix = text_language(language if language is not None else get_language())
    return getattr(obj, f"{field}_{suffix}")

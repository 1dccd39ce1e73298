"""A notice as people read it: the customer on their pages, a contact-centre employee
reading it aloud.

What a customer consents to is `PurposeVersion.notice_text`, hashed into the ledger, and
it never changes once published. That text is also written for machines: category codes
("card_payments.country"), the retention rules as a line of ISO 8601 periods, the version
number. People read the same notice in words: categories as words, the retention
sentence once, no rules line, no codes. The exact hashed text stays one click away
("voor controle", with its SHA-256); nothing here is ever hashed.
"""

from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from infra.languages import text_language

from .catalogue import category_words
from .models import LEGAL_BASIS_TEXT, PurposeVersion
from .retention_rules import describe_rules

# The rows under the description, in the order the hashed text has them.
LABELS = {
    "data_used": _("Welke gegevens"),
    "data_categories": _("Soorten gegevens"),
    "legal_basis": _("Grondslag"),
    "retention": _("Hoe lang wij ze bewaren"),
    "recipients": _("Wie ze krijgt"),
    "controller": _("Wie verantwoordelijk is"),
    "dpo_contact": _("Vragen over privacy"),
}
LANGUAGE_NAMES = {"nl": _("Nederlands"), "en": _("Engels")}


@dataclass(frozen=True)
class Row:
    label: str
    text: str


@dataclass(frozen=True)
class ReadableNotice:
    """One version's notice in one language, in words."""

    version: PurposeVersion
    language: str
    title: str
    description: str
    rows: tuple[Row, ...]

    @property
    def language_name(self) -> str:
        return str(LANGUAGE_NAMES[self.language])

    @property
    def exact_text(self) -> str:
        """The hashed text, for the "voor controle" disclosure."""
        return self.version.notice_text(self.language)

    @property
    def sha256(self) -> str:
        return self.version.notice_sha256(self.language)

    def as_text(self) -> str:
        """What a contact-centre employee reads aloud: the title, the description, and
        each row as "label: text"."""
        lines = [self.title, "", self.description, ""]
        lines += [f"{row.label}: {row.text}" for row in self.rows]
        return "\n".join(lines)


def readable_retention(version: PurposeVersion, language: str) -> str:
    """The retention sentence once: made from the rules for a version whose sentences were
    generated from them (format 2; older generations repeated a period per kind), the
    words as published for a format-1 text (typed before rules existed)."""
    if version.notice_format >= 2 and version.retention_rules:
        return describe_rules(version.retention_rules, language)
    return version.text("retention", language)


def readable_notice(version: PurposeVersion, language: str) -> ReadableNotice:
    """`version`'s notice in `language` ("nl" or "en"), for people."""
    language = text_language(language)
    with translation.override(language):
        rows = [
            Row(str(LABELS["data_used"]), version.text("data_used", language)),
            Row(
                str(LABELS["data_categories"]),
                category_words(version.data_categories, language),
            ),
            Row(
                str(LABELS["legal_basis"]),
                LEGAL_BASIS_TEXT[version.purpose.legal_basis][language],
            ),
            Row(str(LABELS["retention"]), readable_retention(version, language)),
            *(
                Row(str(LABELS[field]), version.text(field, language))
                for field in ("recipients", "controller", "dpo_contact")
            ),
        ]
    return ReadableNotice(
        version=version,
        language=language,
        title=version.text("title", language),
        description=version.text("description", language),
        rows=tuple(row for row in rows if row.text),
    )

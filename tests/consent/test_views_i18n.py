"""The committed English catalogue is complete and compiled: a fresh clone needs no gettext."""

import ast
import gettext
import re
from pathlib import Path

from django.conf import settings

PO = Path(settings.BASE_DIR) / "locale/en/LC_MESSAGES/django.po"
MO = PO.with_suffix(".mo")


def po_entries():
    """(msgid, msgstr) pairs of the .po file; plural entries give their singular forms."""
    entries, current, key = [], {}, None
    for line in [*PO.read_text(encoding="utf-8").splitlines(), ""]:
        match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[0\])?|msgstr\[\d\]) (".*")$', line)
        if match:
            key = match.group(1)
            current[key] = ast.literal_eval(match.group(2))
        elif line.startswith('"') and key:
            current[key] += ast.literal_eval(line)
        elif not line.strip() and current:
            msgstr = current.get("msgstr", current.get("msgstr[0]", ""))
            if current.get("msgid"):
                entries.append((current["msgid"], msgstr))
            current, key = {}, None
    return entries


def test_the_compiled_catalogue_matches_the_po_file():
    catalogue = gettext.GNUTranslations(MO.open("rb"))
    entries = po_entries()
    assert len(entries) > 100
    for msgid, msgstr in entries:
        if msgstr:
            assert catalogue.gettext(msgid) == msgstr, msgid


def test_every_dutch_string_of_the_pages_has_an_english_translation():
    # English source strings (model help texts, app names) need no translation.
    untranslated = [msgid for msgid, msgstr in po_entries() if not msgstr]
    assert all(text.isascii() and not text.startswith(("Mijn", "U ")) for text in untranslated)
    assert len(untranslated) <= 5, untranslated

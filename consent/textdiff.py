"""A word-level comparison of two notice texts, for the privacy officer's preview.

`difflib.SequenceMatcher` over words (whitespace kept as its own tokens, so line breaks
survive); the template renders inserted words in `<ins>`, deleted words in `<del>`, and
escapes everything.
"""

import difflib
import re
from dataclasses import dataclass

_TOKENS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class Piece:
    kind: str  # "same", "inserted" or "deleted"
    text: str


def word_diff(old: str, new: str) -> list[Piece]:
    """The pieces that turn `old` into `new`: unchanged, deleted and inserted words.

    Changes separated only by whitespace read as one change ("het land" → "de winkel",
    not word by word), and whitespace around a change stays outside the marks."""
    before, after = _TOKENS.findall(old or ""), _TOKENS.findall(new or "")
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    changes: list[tuple[str, int, int, int, int]] = []
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if tag != "equal" and changes and changes[-1][0] != "equal":
            _, pa1, _, pb1, _ = changes.pop()
            changes.append(("replace", pa1, a2, pb1, b2))
        elif (
            tag != "equal"
            and len(changes) >= 2
            and changes[-1][0] == "equal"
            and changes[-2][0] != "equal"
            and all(token.isspace() for token in before[changes[-1][1] : changes[-1][2]])
        ):
            _, pa1, _, pb1, _ = changes[-2]
            changes[-2:] = [("replace", pa1, a2, pb1, b2)]
        else:
            changes.append((tag, a1, a2, b1, b2))
    pieces: list[Piece] = []
    for op, a1, a2, b1, b2 in changes:
        if op == "equal":
            _add(pieces, "same", "".join(before[a1:a2]))
            continue
        deleted, inserted = "".join(before[a1:a2]), "".join(after[b1:b2])
        texts = [text for text in (deleted, inserted) if text]
        lead = _common(texts, lambda t: t[: len(t) - len(t.lstrip())])
        trail = _common(texts, lambda t: t[len(t.rstrip()) :])
        _add(pieces, "same", lead)
        _add(pieces, "deleted", deleted[len(lead) : len(deleted) - len(trail)])
        _add(pieces, "inserted", inserted[len(lead) : len(inserted) - len(trail)])
        _add(pieces, "same", trail)
    return pieces


def _common(texts, part) -> str:
    parts = {part(text) for text in texts}
    return parts.pop() if len(parts) == 1 else ""


def _add(pieces: list[Piece], kind: str, text: str) -> None:
    if not text:
        return
    if pieces and pieces[-1].kind == kind:
        pieces[-1] = Piece(kind, pieces[-1].text + text)
    else:
        pieces.append(Piece(kind, text))


def changed(pieces: list[Piece]) -> bool:
    return any(piece.kind != "same" for piece in pieces)

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
    """The pieces that turn `old` into `new`: unchanged, deleted and inserted words."""
    before, after = _TOKENS.findall(old or ""), _TOKENS.findall(new or "")
    pieces: list[Piece] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for operation, a1, a2, b1, b2 in matcher.get_opcodes():
        if operation == "equal":
            pieces.append(Piece("same", "".join(before[a1:a2])))
            continue
        if a2 > a1:
            pieces.append(Piece("deleted", "".join(before[a1:a2])))
        if b2 > b1:
            pieces.append(Piece("inserted", "".join(after[b1:b2])))
    return pieces


def changed(pieces: list[Piece]) -> bool:
    return any(piece.kind != "same" for piece in pieces)

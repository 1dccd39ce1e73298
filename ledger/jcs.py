"""RFC 8785 JSON Canonicalization Scheme (JCS), for the value types the ledger uses.

A ledger entry is hashed into the transparency log as the UTF-8 bytes of its canonical
JSON, so anyone can rebuild those bytes from the same data: `canonical(value)`.

What RFC 8785 asks, and what this module does for our types:

- Section 3.2.1: no whitespace between tokens.
- Section 3.2.2.1: `null`, `true`, `false` as themselves.
- Section 3.2.2.2: strings as ECMAScript's JSON.stringify writes them: `"` and `\\` escaped
  with a backslash; U+0008, U+0009, U+000A, U+000C, U+000D as `\\b \\t \\n \\f \\r`; every other
  character below U+0020 as `\\u00xx` with lowercase hex; everything else (U+007F, U+2028,
  non-ASCII) as the character itself.
- Section 3.2.2.3: numbers. We accept integers only, within I-JSON's exact range
  (|n| <= 2**53 - 1), where ECMAScript's Number-to-String is the plain decimal. Floats are
  refused, so no entry ever depends on number formatting.
- Section 3.2.3: object members sorted by their names as arrays of UTF-16 code units,
  compared as unsigned integers (so U+1F600, a surrogate pair D83D DE00, sorts before U+FB33).
- Section 3.2.4: the result encoded in UTF-8.

Lone surrogates cannot be encoded in UTF-8 and I-JSON (RFC 7493) forbids them: refused.
No Django, no third-party imports: an auditor runs this with the standard library alone.
"""

import re

__all__ = ["MAX_SAFE_INTEGER", "canonical"]

MAX_SAFE_INTEGER = 2**53 - 1

_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def canonical(value: object) -> bytes:
    """The RFC 8785 canonical form of `value`, as UTF-8 bytes.

    Accepts str, int (not beyond 2**53 - 1 either way), bool, None, list, and dict with
    str keys, nested. Anything else (float, tuple, bytes, a date, ...) is a TypeError: the
    caller converts it first, so that the bytes are never a guess."""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts).encode("utf-8")


def _write(value: object, parts: list[str]) -> None:
    if value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, str):
        parts.append(_string(value))
    elif isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValueError(f"integer {value} is outside I-JSON's exact range (±2**53 - 1)")
        parts.append(str(int(value)))
    elif isinstance(value, list):
        parts.append("[")
        for position, item in enumerate(value):
            if position:
                parts.append(",")
            _write(item, parts)
        parts.append("]")
    elif isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"object keys must be str, not {type(key).__name__}: {key!r}")
        parts.append("{")
        for position, key in enumerate(sorted(value, key=_utf16_units)):
            if position:
                parts.append(",")
            parts.append(_string(key))
            parts.append(":")
            _write(value[key], parts)
        parts.append("}")
    else:
        raise TypeError(
            f"cannot canonicalise a {type(value).__name__}: only str, int, bool, None,"
            " list and dict with str keys (convert floats, dates and tuples first)"
        )


def _utf16_units(key: str) -> bytes:
    # Big-endian UTF-16 compares bytewise exactly as the code units compare as numbers.
    return key.encode("utf-16-be", "surrogatepass")


# A character `_string` does more with than copy: escaped, or refused (a lone surrogate).
_NOT_PLAIN = re.compile(r'[\x00-\x1f"\\\ud800-\udfff]')


def _string(text: str) -> str:
    if _NOT_PLAIN.search(text) is None:
        return f'"{text}"'  # nearly every string: nothing to escape, copied as it is
    out = ['"']
    for char in text:
        code = ord(char)
        if char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
        elif code < 0x20:
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF:
            raise ValueError(f"lone surrogate U+{code:04X} cannot be encoded (RFC 8785, I-JSON)")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)

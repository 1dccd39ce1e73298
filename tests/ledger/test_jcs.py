"""RFC 8785 canonical JSON: the bytes a ledger entry is hashed as, which anyone must be able
to rebuild. The expected outputs are RFC 8785's own examples (section 3.2.2.2's string,
section 3.2.3's sorting) and the JCS reference implementation's test files, without the
floats we refuse."""

import enum
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.jcs import MAX_SAFE_INTEGER, canonical


def test_strings_are_escaped_as_rfc_8785_section_3_2_2_2_shows():
    # The RFC's input "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/" and its output.
    value = {
        "escaping": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
        "other": [None, True, False],
    }
    expected = '{"escaping":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/","other":[null,true,false]}'
    assert canonical(value) == expected.encode()
    # ... and the UTF-8 bytes, as the RFC prints them in hexadecimal (its numbers left out).
    assert (
        canonical(value)
        .hex(" ")
        .startswith(
            "7b 22 65 73 63 61 70 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30 30 66 5c 6e 41 27 42 5c"
            " 22 5c 5c 5c 5c 5c 22 2f 22"
        )
    )


def test_members_are_sorted_by_utf16_code_units_as_rfc_8785_section_3_2_3_shows():
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    expected = (
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    )
    assert canonical(value) == expected.encode("utf-8")


def test_the_reference_implementations_weird_keys():
    # cyberphone/json-canonicalization testdata weird.json: DEL and U+0080 stay as they are.
    value = {
        "\u20ac": "Euro Sign",
        "1": "One",
        "\u0080": "Control\u007f",
        "\U0001f602": "Smiley",
        "\u00f6": "Latin Small Letter O With Diaeresis",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "</script>": "Browser Challenge",
    }
    expected = (
        '{"1":"One","</script>":"Browser Challenge","\u0080":"Control\u007f",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f602":"Smiley","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    )
    assert canonical(value) == expected.encode("utf-8")


def test_sorting_ignores_locale_and_unicode_is_not_normalised():
    french = {"sin": "4", "pêche": "3", "péché": "2", "peach": "1"}
    assert canonical(french) == '{"peach":"1","péché":"2","pêche":"3","sin":"4"}'.encode()
    assert canonical({"u": "\u1e0d\u0307"}) == '{"u":"\u1e0d\u0307"}'.encode()


def test_control_characters_use_the_short_escapes_or_lowercase_hex():
    text = "".join(chr(code) for code in range(0x20))
    expected = (
        '"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r'
        "\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019"
        '\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f"'
    )
    assert canonical(text) == expected.encode()
    assert canonical("\u2028\u2029/") == '"\u2028\u2029/"'.encode()


def test_nesting_integers_and_literals():
    value = {"b": [1, -2, 0, {"z": None, "a": True}], "a": {}, "c": [], "d": MAX_SAFE_INTEGER}
    assert (
        canonical(value) == b'{"a":{},"b":[1,-2,0,{"a":true,"z":null}],"c":[],"d":9007199254740991}'
    )


@pytest.mark.parametrize("value", [1.5, 1.0, float("nan"), (1, 2), b"x", {1: "a"}, {"a": {2}}])
def test_other_types_are_refused_with_a_type_error(value):
    with pytest.raises(TypeError):
        canonical(value)


@pytest.mark.parametrize(
    "value", [MAX_SAFE_INTEGER + 1, -MAX_SAFE_INTEGER - 1, "\ud800", {"\udc00": 1}]
)
def test_numbers_beyond_ijson_and_lone_surrogates_are_refused(value):
    with pytest.raises(ValueError):
        canonical(value)


def test_str_and_int_subclasses_are_written_as_their_values():
    class Action(enum.StrEnum):
        GRANTED = "granted"

    class Level(enum.IntEnum):
        HIGH = 3

    assert (
        canonical({"action": Action.GRANTED, "level": Level.HIGH})
        == b'{"action":"granted","level":3}'
    )


def utf16_units(key):
    """A string as ECMAScript sees it: a list of 16-bit code units."""
    encoded = key.encode("utf-16-be")
    return [int.from_bytes(encoded[i : i + 2], "big") for i in range(0, len(encoded), 2)]


json_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER) | json_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(json_text, children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_canonical_json_is_json_of_the_same_value_and_a_fixed_point(value):
    encoded = canonical(value)
    assert json.loads(encoded) == value
    assert canonical(json.loads(encoded)) == encoded


@given(st.dictionaries(json_text, st.none(), min_size=2, max_size=8))
def test_keys_come_out_in_utf16_order(value):
    keys = list(json.loads(canonical(value)))
    assert keys == sorted(value, key=utf16_units)


@given(json_values)
def test_without_whitespace_it_matches_pythons_sorted_json_for_bmp_keys(value):
    # For keys inside the Basic Multilingual Plane, UTF-16 order is code point order, and
    # JSON.stringify's escaping is what json.dumps writes with ensure_ascii=False.
    def astral(v):
        if isinstance(v, dict):
            return any(any(ord(c) > 0xFFFF for c in k) or astral(x) for k, x in v.items())
        return isinstance(v, list) and any(astral(x) for x in v)

    if astral(value):
        return
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical(value) == expected.encode()

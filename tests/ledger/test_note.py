"""Signed notes, checkpoints and cosignatures, to the byte: Go's sumdb/note example key and
signature must come out exactly, and every way of forging or garbling a note must fail
with the right error (an unknown key is not a bad signature)."""

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger import merkle, note

# The example of Go's golang.org/x/mod/sumdb/note package documentation.
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    f"{GO_TEXT}\n"
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqd"
    "ngotpRZb6KE6RyyBwJnAM=\n"
)
ROOT = bytes(range(32))


def test_signing_gos_example_gives_gos_signed_note_byte_for_byte():
    assert note.sign(GO_TEXT, GO_SIGNER) == GO_NOTE
    assert note.open(GO_NOTE, [GO_VERIFIER]) == (GO_TEXT, ["PeterNeumann"])
    signer, verifier = note.parse_signer_key(GO_SIGNER), note.parse_verifier_key(GO_VERIFIER)
    assert signer.public_key == verifier.public_key
    assert signer.key_id == verifier.key_id == bytes.fromhex("c74f20a3")
    assert verifier.vkey == GO_VERIFIER


def test_key_ids_hash_the_name_a_newline_the_type_and_the_public_key():
    signer, vkey = note.generate_key("bank.example/log")
    verifier = note.parse_verifier_key(vkey)
    material = b"bank.example/log\n\x01" + verifier.public_key
    assert verifier.key_id == hashlib.sha256(material).digest()[:4]
    name, hex_id, encoded = vkey.split("+", 2)
    assert (name, hex_id) == ("bank.example/log", verifier.key_id.hex())
    assert base64.b64decode(encoded) == b"\x01" + verifier.public_key
    assert signer.startswith(f"PRIVATE+KEY+bank.example/log+{hex_id}+")
    assert base64.b64decode(signer.split("+", 4)[4])[0] == 0x01

    witness_signer, witness_vkey = note.generate_witness_key("witness.example/w1")
    witness = note.parse_verifier_key(witness_vkey)
    assert witness.algorithm == note.ALG_COSIGNATURE_V1 == 0x04
    assert witness.key_id == note.key_id("witness.example/w1", 0x04, witness.public_key)
    assert note.parse_signer_key(witness_signer).public_key == witness.public_key


@pytest.mark.parametrize(
    "vkey",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong ID
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TX",  # other key
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # a space
        "PeterNeumann+c74f20a3",
        "PeterNeumann+c74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+Apc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # type 0x02
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_a_malformed_or_mismatched_verifier_key_is_refused(vkey):
    with pytest.raises(note.InvalidKey):
        note.parse_verifier_key(vkey)


def test_a_signer_key_whose_id_is_not_its_keys_is_refused():
    with pytest.raises(note.InvalidKey):
        note.parse_signer_key(GO_SIGNER.replace("c74f20a3", "c74f20a4"))
    with pytest.raises(note.InvalidKey):
        note.parse_signer_key(GO_SIGNER.removeprefix("PRIVATE+"))


def test_a_note_signed_by_another_key_names_who_did_sign_it():
    other_signer, _ = note.generate_key("PeterNeumann")  # same name, another key
    forged = note.sign(GO_TEXT, other_signer)
    with pytest.raises(note.UnknownKey) as refused:
        note.open(forged, [GO_VERIFIER])
    [(name, hex_id)] = refused.value.signers
    assert name == "PeterNeumann" and hex_id != "c74f20a3"


def test_a_changed_text_or_signature_is_an_invalid_signature_not_an_unknown_key():
    changed_text = GO_NOTE.replace("answer", "Answer")
    with pytest.raises(note.InvalidSignature, match="PeterNeumann"):
        note.open(changed_text, [GO_VERIFIER])
    signature = GO_NOTE.rsplit(" ", 1)[1]
    raw = bytearray(base64.b64decode(signature))
    raw[10] ^= 1
    changed_signature = GO_NOTE.replace(signature.strip(), base64.b64encode(raw).decode())
    with pytest.raises(note.InvalidSignature):
        note.open(changed_signature, [GO_VERIFIER])


def test_unknown_signatures_are_ignored_when_a_known_one_verifies():
    other_signer, other_vkey = note.generate_key("someone.else")
    both = note.add_signatures(GO_NOTE, note.sign(GO_TEXT, other_signer).split("\n\n")[1])
    assert note.open(both, [GO_VERIFIER]) == (GO_TEXT, ["PeterNeumann"])
    assert note.open(both, [GO_VERIFIER, other_vkey])[1] == ["PeterNeumann", "someone.else"]


def flip_last_base64_bit(line):
    """The same bytes under another last character: not canonical base64."""
    body = line.rstrip("\n")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    stripped = body.rstrip("=")
    last = stripped[-1]
    changed = stripped[:-1] + alphabet[alphabet.index(last) ^ 1] + body[len(stripped) :]
    assert base64.b64decode(changed.split(" ")[-1]) == base64.b64decode(body.split(" ")[-1])
    return changed + "\n"


@pytest.mark.parametrize(
    "malformed",
    [
        GO_TEXT,  # no signatures
        GO_NOTE.rstrip("\n"),  # no final newline
        GO_NOTE.replace("— ", "-- "),  # a hyphen for the em dash
        GO_NOTE.replace("— PeterNeumann ", "— PeterNeumann  "),
        GO_NOTE.replace("\n\n", "\n"),  # no blank line
        GO_NOTE.replace("you", "y\tou", 1),  # a control character
        GO_NOTE + "not a signature\n",
        GO_NOTE.replace("PeterNeumann x08go", "PeterNeumann x08go!"),  # not base64
        GO_TEXT + "\n— PeterNeumann AAAA\n",  # shorter than a key ID and one byte
        GO_TEXT + "\n" + flip_last_base64_bit(GO_NOTE.split("\n\n")[1]),
        GO_TEXT + "\n" + GO_NOTE.split("\n\n")[1] * 101,
    ],
)
def test_a_malformed_note_is_refused_before_any_signature_is_checked(malformed):
    with pytest.raises(note.MalformedNote):
        note.open(malformed, [GO_VERIFIER])


def test_invalid_utf8_is_malformed():
    with pytest.raises(note.MalformedNote):
        note.open(GO_NOTE.encode().replace(b"you", b"\xff"), [GO_VERIFIER])
    assert note.open(GO_NOTE.encode(), [GO_VERIFIER])[1] == ["PeterNeumann"]


def test_the_text_may_hold_empty_lines_the_last_blank_line_separates():
    signer, vkey = note.generate_key("bank.example/log")
    text = "first\n\nthird\n"
    assert note.open(note.sign(text, signer), [vkey]) == (text, ["bank.example/log"])
    with pytest.raises(note.MalformedNote):
        note.sign("no newline at the end", signer)


# --- Checkpoints --------------------------------------------------------------------------
def test_a_checkpoint_is_origin_size_and_base64_root_each_on_its_own_line():
    text = note.format_checkpoint("bank.example/log", 20852163, ROOT, ["time 1700000000"])
    assert text == (
        "bank.example/log\n20852163\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
        "time 1700000000\n"
    )
    assert note.parse_checkpoint(text) == note.Checkpoint(
        "bank.example/log", 20852163, ROOT, ("time 1700000000",)
    )
    empty = note.format_checkpoint("bank.example/log", 0, merkle.EMPTY_ROOT)
    assert note.parse_checkpoint(empty).size == 0


def test_the_c2sp_example_checkpoint_parses():
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    checkpoint = note.parse_checkpoint(text)
    assert (checkpoint.origin, checkpoint.size, checkpoint.extensions) == (
        "example.com/behind-the-sofa",
        20852163,
        (),
    )
    assert checkpoint.text == text


@pytest.mark.parametrize(
    "text",
    [
        "log\n5\n",
        "log\n05\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        "log\n-5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        "log\n+5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        "log\n٥\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",  # an Arabic-Indic five
        "log\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",  # no padding
        "log\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=\n",  # not canonical
        "log\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd\n",  # 30 bytes
        "log\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n",  # an empty extension
        "log\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",  # no final newline
        "\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        "log\n99999999999999999999\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
    ],
)
def test_a_malformed_checkpoint_is_refused(text):
    with pytest.raises(note.MalformedNote):
        note.parse_checkpoint(text)


# --- Cosignatures -------------------------------------------------------------------------
def test_a_cosignature_signs_the_header_the_time_and_the_checkpoint_text():
    signer, vkey = note.generate_witness_key("witness.example/w1")
    text = note.format_checkpoint("bank.example/log", 7, ROOT)
    line = note.cosign(text, signer, 1679315147)
    name, encoded = line.removeprefix("— ").removesuffix("\n").split(" ")
    raw = base64.b64decode(encoded)
    verifier = note.parse_verifier_key(vkey)
    assert name == "witness.example/w1" and line.endswith("\n")
    assert raw[:4] == verifier.key_id
    assert int.from_bytes(raw[4:12], "big") == 1679315147
    message = b"cosignature/v1\ntime 1679315147\n" + text.encode()
    Ed25519PublicKey.from_public_bytes(verifier.public_key).verify(raw[12:], message)
    assert len(raw) == 4 + 8 + 64


def test_the_c2sp_example_cosignature_carries_key_id_then_timestamp():
    # tlog-cosignature's example line; its key is not published, so only the layout is checked.
    encoded = (
        "jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0x"
        "Ue+mbIUBkBIfZ+qnA=="
    )
    raw = base64.b64decode(encoded)
    assert len(raw) == 4 + 8 + 64
    assert int.from_bytes(raw[4:12], "big") == 1679315147  # "time 1679315147" in the spec


def test_cosignatures_verify_by_witness_and_report_their_times():
    log_signer, log_vkey = note.generate_key("bank.example/log")
    w1_signer, w1_vkey = note.generate_witness_key("witness.example/w1")
    w2_signer, w2_vkey = note.generate_witness_key("witness.example/w2")
    text = note.format_checkpoint("bank.example/log", 7, ROOT, ["time 1700000000"])
    signed = note.sign(text, log_signer)
    cosigned = note.add_signatures(
        signed, [note.cosign(text, w1_signer, 1700000005), note.cosign(text, w2_signer, 1700000009)]
    )
    assert note.open(cosigned, [log_vkey]) == (text, ["bank.example/log"])
    assert note.verify_cosignatures(cosigned, [w1_vkey, w2_vkey]) == {
        "witness.example/w1": 1700000005,
        "witness.example/w2": 1700000009,
    }
    assert note.verify_cosignatures(cosigned, [w2_vkey]) == {"witness.example/w2": 1700000009}
    assert note.verify_cosignatures(signed, [w1_vkey]) == {}


def test_a_cosignature_over_another_checkpoint_or_time_does_not_verify():
    log_signer, _ = note.generate_key("bank.example/log")
    witness_signer, witness_vkey = note.generate_witness_key("witness.example/w1")
    text = note.format_checkpoint("bank.example/log", 7, ROOT)
    other = note.format_checkpoint("bank.example/log", 8, ROOT)
    replayed = note.add_signatures(
        note.sign(other, log_signer), note.cosign(text, witness_signer, 5)
    )
    with pytest.raises(note.InvalidSignature, match=r"witness\.example/w1"):
        note.verify_cosignatures(replayed, [witness_vkey])
    line = note.cosign(text, witness_signer, 5)
    raw = bytearray(base64.b64decode(line.split(" ")[2]))
    raw[11] ^= 1  # the timestamp: 5 becomes 4
    retimed = f"— witness.example/w1 {base64.b64encode(raw).decode()}\n"
    with pytest.raises(note.InvalidSignature):
        note.verify_cosignatures(
            note.add_signatures(note.sign(text, log_signer), retimed), [witness_vkey]
        )


def test_log_keys_and_witness_keys_are_not_interchangeable():
    log_signer, log_vkey = note.generate_key("bank.example/log")
    witness_signer, witness_vkey = note.generate_witness_key("witness.example/w1")
    text = note.format_checkpoint("bank.example/log", 7, ROOT)
    with pytest.raises(note.InvalidKey):
        note.cosign(text, log_signer, 5)
    with pytest.raises(note.InvalidKey):
        note.sign(text, witness_signer)
    with pytest.raises(note.InvalidKey):
        note.open(note.sign(text, log_signer), [witness_vkey])
    with pytest.raises(note.InvalidKey):
        note.verify_cosignatures(note.sign(text, log_signer), [log_vkey])
    # A witness's line is no log signature, even under the log's own name and key bytes.
    cosigned = note.add_signatures(
        note.sign(text, log_signer), note.cosign(text, witness_signer, 5)
    )
    assert note.open(cosigned, [log_vkey])[1] == ["bank.example/log"]
    with pytest.raises(ValueError):
        note.cosign(text, witness_signer, -1)
    with pytest.raises(ValueError):
        note.cosign(text, witness_signer, 2**63)


def test_an_existing_ed25519_key_can_be_written_as_a_note_key():
    private = Ed25519PrivateKey.generate()
    seed, public = private.private_bytes_raw(), private.public_key().public_bytes_raw()
    skey = note.signer_key("bank.example/log", seed)
    vkey = note.verifier_key("bank.example/log", public)
    text = note.format_checkpoint("bank.example/log", 1, ROOT)
    assert note.open(note.sign(text, skey), [vkey])[1] == ["bank.example/log"]

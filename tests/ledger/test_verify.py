"""The standalone verifier, as a customer or an auditor uses it with only the bank's public
key (and the witnesses'): a receipt proves its event is in the log that the witnesses saw,
and every way of changing a receipt, a checkpoint or the log fails, saying why."""

import json
import shutil
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ledger import note
from ledger.jcs import canonical
from ledger.verify import CLAIMS, check_log, verify_receipt
from tests.ledger.conftest import ROOT
from tests.ledger.logs import Log, consent_entry, receipt_with_proof

NOW = 1_793_000_000  # the auditor's clock, in unix seconds (October 2026)


class Bank:
    """The bank's log with its witnesses' keys, as the Django side will run it."""

    def __init__(self):
        self.log = Log()
        self.w1_signer, self.w1_key = note.generate_witness_key("witness.other-org.example/w1")
        self.w2_signer, self.w2_key = note.generate_witness_key("witness.third.example/w2")

    def record(self, events):
        first = self.log.size
        for number in range(events):
            customer = f"30{(first + number) % 7:04d}"
            if (first + number) % 5 == 4:  # now and then an objection: no purpose, no version
                self.log.append(
                    consent_entry(
                        customer=customer,
                        purpose=None,
                        version=None,
                        action="objected",
                        sequence=number + 1,
                    )
                )
            else:
                self.log.append(consent_entry(customer=customer, sequence=number + 1))  # fmt: skip

    def checkpoint(self, *, cosigned_at=None, witnesses=("w1",), extensions=()):
        """The newest checkpoint, signed, and cosigned by these witnesses at these times."""
        signed = self.log.checkpoint(extensions=extensions)
        text = note.split_note(signed)[0]
        signers = {"w1": self.w1_signer, "w2": self.w2_signer}
        times = cosigned_at or [NOW - 60] * len(witnesses)
        lines = [note.cosign(text, signers[w], at) for w, at in zip(witnesses, times, strict=True)]
        return note.add_signatures(signed, lines) if lines else signed

    def receipt(self, index, signed=None):
        return receipt_with_proof(self.log, index, signed or self.checkpoint())


@pytest.fixture
def bank():
    bank = Bank()
    bank.record(20)
    return bank


def verify(bank, receipt, **options):
    options.setdefault("witness_keys", [bank.w1_key])
    return verify_receipt(receipt, log_key=bank.log.verifier_key, **options)


# --- Receipts -----------------------------------------------------------------------------
@pytest.mark.parametrize("index", [0, 1, 4, 13, 19])
def test_a_receipt_proves_its_event_is_in_the_cosigned_log(bank, index):
    receipt = bank.receipt(index)
    result = verify(bank, receipt)
    assert result.ok, result.reason
    assert result.summary == (
        f"receipt ok: event {receipt['consentReceiptID']} is leaf {index} of 20, checkpoint"
        f" signed by {bank.log.origin}, cosigned by witness.other-org.example/w1"
    )
    assert result.checks[0] == "ok: the entry is canonical JSON (RFC 8785), format 1"
    assert any(
        line.startswith("note: not covered by the log: jurisdiction") for line in result.checks
    )


def test_without_witness_keys_the_banks_key_alone_checks_a_receipt(bank):
    result = verify_receipt(bank.receipt(3), log_key=bank.log.verifier_key)
    assert result.ok and result.summary.endswith("cosigned by no witness (none given)")


def test_a_receipt_of_an_older_checkpoint_still_verifies(bank):
    signed = bank.checkpoint()
    receipt = bank.receipt(7, signed)
    bank.record(30)
    assert verify(bank, receipt).ok
    assert verify(bank, bank.receipt(7)).ok  # and in the newer one


def mutate(receipt, change):
    changed = json.loads(json.dumps(receipt))
    change(changed)
    assert changed != receipt, "the change changed nothing"
    return changed


def replace_in_entry(old, new):
    def change(receipt):
        receipt["proof"]["entry"] = receipt["proof"]["entry"].replace(old, new, 1)

    return change


def reentry(**fields):
    """The entry changed and canonical again, and the receipt's claims changed with it."""

    def change(receipt):
        entry = json.loads(receipt["proof"]["entry"])
        entry.update(fields)
        receipt["proof"]["entry"] = canonical(entry).decode()
        if "action" in fields:
            receipt["action"] = fields["action"]
            receipt["consentGiven"] = fields["action"] == "granted"

    return change


def set_proof(name, value):
    def change(receipt):
        receipt["proof"][name] = value(receipt["proof"][name]) if callable(value) else value

    return change


def flip_hash(position):
    def change(hashes):
        raw = bytearray(note.b64decode(hashes[position]))
        raw[0] ^= 1
        return [*hashes[:position], note.b64encode(bytes(raw)), *hashes[position + 1 :]]

    return change


TAMPERING = {
    "an event rewritten with its claims": (reentry(action="withdrawn"), "inclusion proof"),
    "the entry not canonical": (replace_in_entry('","', '", "'), "canonical form"),
    "the entry's keys reordered": (
        lambda r: r["proof"].update(entry=json.dumps(json.loads(r["proof"]["entry"]))),
        "canonical form",
    ),
    "a field added to the entry": (reentry(extra="x"), "exactly the fields"),
    "a float in the entry": (replace_in_entry('"format":1,', '"format":1.0,'), "integer"),
    "another leaf index": (set_proof("leafIndex", lambda i: i + 1), "inclusion proof"),
    "another tree size": (set_proof("treeSize", lambda n: n + 1), "the checkpoint has 20"),
    "a proof hash changed": (set_proof("inclusionProof", flip_hash(0)), "inclusion proof"),
    "a proof hash dropped": (set_proof("inclusionProof", lambda p: p[1:]), "inclusion proof"),
    "a proof hash not base64": (set_proof("inclusionProof", lambda p: ["x", *p[1:]]), "base64"),
    "the root in the checkpoint changed": (
        lambda r: r["proof"].update(
            checkpoint=r["proof"]["checkpoint"].replace("\n20\n", "\n21\n", 1)
        ),
        "signature on the checkpoint does not verify",
    ),
    "no checkpoint": (lambda r: r["proof"].pop("checkpoint"), "has no checkpoint"),
    "no proof": (lambda r: r.pop("proof"), "no proof"),
    "a consentTimestamp a second off": (
        lambda r: r.update(consentTimestamp=r["consentTimestamp"] + 1),
        "consentTimestamp",
    ),
    "a noticeVersion that is not the entry's": (
        lambda r: r.update(noticeVersion=3),
        "noticeVersion",
    ),
    "another service": (
        lambda r: r["services"][0].update(service="offers_income"),
        "services[0].service",
    ),
    "consent given where it was not": (lambda r: r.update(consentGiven=False), "consentGiven"),
    "a leafIndex given as true": (set_proof("leafIndex", True), "leafIndex"),
}


@pytest.mark.parametrize("case", TAMPERING, ids=list(TAMPERING))
def test_a_changed_receipt_fails_saying_why(bank, case):
    change, why = TAMPERING[case]
    result = verify(bank, mutate(bank.receipt(3), change))
    assert not result.ok
    assert why in result.reason
    assert result.summary == f"receipt FAILED: {result.reason}"


@pytest.mark.parametrize("claim", list(CLAIMS))
def test_every_claim_the_entry_states_must_be_the_entrys(bank, claim):
    def change(receipt):
        value = receipt[claim]
        receipt[claim] = value + 1 if isinstance(value, int) else value + "x"

    result = verify(bank, mutate(bank.receipt(2), change))
    assert not result.ok and f"the receipt's {claim} is not the entry's" in result.reason


def test_an_objection_receipt_quotes_the_statement_whose_hash_the_entry_holds(bank):
    receipt = bank.receipt(4)
    assert receipt["notice"] and "noticeVersion" not in receipt
    assert verify(bank, receipt).ok
    changed = mutate(receipt, lambda r: r.update(notice=r["notice"] + " "))
    assert "notice is not the text" in verify(bank, changed).reason
    added = mutate(receipt, lambda r: r.update(noticeVersion=1))
    assert "noticeVersion" in verify(bank, added).reason
    removed = mutate(receipt, lambda r: r.pop("notice"))
    assert "has no notice" in verify(bank, removed).reason


def test_one_changed_character_anywhere_fails_unless_the_verifier_says_it_is_not_covered(bank):
    """Every character of the receipt file, changed in turn: the result either is no JSON,
    or fails, or differs only in fields the verifier reported as not covered by the log."""
    receipt = bank.receipt(11)
    text = json.dumps(receipt, ensure_ascii=False, separators=(",", ":"))
    original = verify(bank, receipt)
    assert original.ok
    accepted = 0
    for position, char in enumerate(text):
        changed_text = f"{text[:position]}{chr(ord(char) ^ 1)}{text[position + 1 :]}"
        try:
            changed = json.loads(changed_text)
        except json.JSONDecodeError:
            continue
        result = verify(bank, changed)
        if result.ok:
            accepted += 1
            differing = {k for k in {*receipt, *changed} if receipt.get(k) != changed.get(k)}
            assert differing <= {*original.uncovered, *result.uncovered}, (position, differing)
            assert "proof" not in differing
    assert 0 < accepted < len(text) // 2


def test_a_pending_receipt_says_it_is_not_in_a_checkpoint_yet(bank):
    receipt = bank.receipt(5)
    receipt["proof"] = {"status": "pending", "entry": receipt["proof"]["entry"]}
    result = verify(bank, receipt)
    assert not result.ok
    assert result.reason == (
        f"event {receipt['consentReceiptID']} is not in a signed checkpoint yet (proof status"
        " pending): download the receipt again later"
    )


def test_a_checkpoint_signed_by_another_key_fails_naming_that_key(bank):
    impostor = Log(origin=bank.log.origin)  # the bank's name, another key
    for text in bank.log.entries:
        impostor.append(json.loads(text))
    receipt = receipt_with_proof(impostor, 6, impostor.checkpoint())
    result = verify(bank, receipt, witness_keys=[])
    assert not result.ok
    hex_id = note.parse_verifier_key(impostor.verifier_key).key_id.hex()
    assert result.reason == (
        f"the checkpoint is not signed by the pinned log key {bank.log.origin}+"
        f"{note.parse_verifier_key(bank.log.verifier_key).key_id.hex()} (signed by:"
        f" {bank.log.origin}+{hex_id})"
    )


def test_a_checkpoint_of_another_origin_fails(bank):
    other = Log(origin="other.example/log", signer_key="", verifier_key="")
    other.append(json.loads(bank.log.entries[0]))
    result = verify_receipt(
        receipt_with_proof(other, 0, other.checkpoint()), log_key=other.verifier_key
    )
    assert result.ok  # fine under its own key...
    spoofed_text = note.format_checkpoint("other.example/elsewhere", 1, other.root())
    spoofed = receipt_with_proof(other, 0, note.sign(spoofed_text, other.signer_key))
    assert (
        "is of log 'other.example/elsewhere'"
        in verify_receipt(spoofed, log_key=other.verifier_key).reason
    )


def test_witnesses_must_cosign_as_many_as_required(bank):
    only_w1 = bank.receipt(8)
    both = [bank.w1_key, bank.w2_key]
    result = verify(bank, only_w1, witness_keys=both)
    assert not result.ok and result.reason == (
        "only 1 of the 2 required witness cosignatures verify (missing: witness.third.example/w2)"
    )
    assert verify(bank, only_w1, witness_keys=both, witnesses=1).ok
    signed = bank.checkpoint(witnesses=("w1", "w2"), cosigned_at=(NOW - 60, NOW - 30))
    result = verify(bank, bank.receipt(8, signed), witness_keys=both)
    assert result.ok and "w1, witness.third.example/w2" in result.summary
    uncosigned = bank.checkpoint(witnesses=())
    assert "only 0 of the 1" in verify(bank, bank.receipt(8, uncosigned)).reason
    assert "between 1 and 2" in verify(bank, only_w1, witness_keys=both, witnesses=3).reason


def test_a_forged_cosignature_fails(bank):
    signed = bank.checkpoint(witnesses=())
    text = note.split_note(signed)[0]
    other_text = text.replace("\n20\n", "\n19\n")
    replayed = note.add_signatures(signed, note.cosign(other_text, bank.w1_signer, NOW))
    result = verify(bank, bank.receipt(1, replayed))
    assert not result.ok and "a witness cosignature does not verify" in result.reason


def test_a_receipt_cosigned_by_the_real_witness_process_verifies(bank, start_witness):
    """The witness at the other organisation cosigns over HTTP; the customer needs only the
    two public keys to check the receipt."""
    witness = start_witness(bank.log.verifier_key)
    signed = bank.log.checkpoint()
    reply = witness.add_checkpoint(bank.log, 0, signed)
    assert reply.status == 200
    receipt = bank.receipt(9, note.add_signatures(signed, reply.body))
    result = verify(bank, receipt, witness_keys=[witness.verifier_key])
    assert result.ok and result.summary.endswith("cosigned by witness.other-org.example/w1")


def run_verifier(*arguments, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "ledger.verify", *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_command_line_checks_a_downloaded_receipt(bank, tmp_path):
    receipt = bank.receipt(12)
    path = tmp_path / "consent-receipt.json"
    path.write_text(json.dumps(receipt, indent=2, ensure_ascii=False))
    keys = ["--log-key", bank.log.verifier_key, "--witness-key", bank.w1_key]
    done = run_verifier("receipt", str(path), *keys)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1].startswith(f"receipt ok: event {receipt['consentReceiptID']} is leaf 12 of 20")
    assert len(lines) >= 6 and all(line.startswith(("ok: ", "note: ")) for line in lines[:-1])

    path.write_text(json.dumps(mutate(receipt, set_proof("leafIndex", 13))))
    done = run_verifier("receipt", str(path), *keys)
    assert done.returncode == 1
    assert done.stdout.splitlines()[-1].startswith("receipt FAILED: the inclusion proof")

    path.write_text(json.dumps(receipt).replace('"action"', '"action":"withdrawn","action"', 1))
    done = run_verifier("receipt", str(path), *keys)
    assert done.returncode == 1 and "twice" in done.stdout


def test_the_verifier_runs_from_a_copy_of_four_files_without_django(bank, tmp_path):
    """An auditor copies ledger/{__init__,jcs,merkle,note,verify}.py and nothing else."""
    copy = tmp_path / "auditor" / "ledger"
    copy.mkdir(parents=True)
    for name in ("__init__.py", "jcs.py", "merkle.py", "note.py", "verify.py"):
        shutil.copy(ROOT / "ledger" / name, copy / name)
    assert (copy / "__init__.py").read_text() == ""
    probe = (
        "import sys, ledger.verify as v; print(v.__file__);"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'django', 'consent', 'config'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=copy.parent, capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines() == [str(copy / "verify.py"), "[]"]
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(bank.receipt(0)))
    done = run_verifier("receipt", str(path), "--log-key", bank.log.verifier_key, cwd=copy.parent)
    assert done.returncode == 0 and done.stdout.splitlines()[-1].startswith("receipt ok:")


# --- Monitoring the log -------------------------------------------------------------------
def publish(folder, bank, signed, *consistency_from):
    """What the bank publishes for auditors: the newest checkpoint and consistency proofs."""
    folder.mkdir(exist_ok=True)
    (folder / "checkpoint").write_text(signed)
    for old in consistency_from:
        proof = bank.log.consistency_json(old)
        (folder / f"consistency-{old}-{bank.log.size}.json").write_text(json.dumps(proof))


def monitor(bank, url, state, **options):
    options.setdefault("witness_keys", [bank.w1_key])
    options.setdefault("now", NOW)
    return check_log(url=str(url), log_key=bank.log.verifier_key, state=state, **options)


def test_the_monitor_trusts_a_first_checkpoint_then_checks_each_growth(bank, tmp_path):
    folder, state = tmp_path / "published", tmp_path / "state" / "last-checkpoint"
    first = bank.checkpoint()
    publish(folder, bank, first)
    result = monitor(bank, folder, state, max_age=3600)
    assert result.ok, result.reason
    assert "note: nothing remembered" in result.checks[-1]
    assert state.read_text() == first

    bank.record(13)
    second = bank.checkpoint(cosigned_at=(NOW,))
    publish(folder, bank, second, 20)
    result = monitor(bank, folder, state, max_age=3600)
    assert result.ok, result.reason
    assert result.summary == (
        f"log ok: {bank.log.origin} has 33 leaves, consistent with the 20 remembered, cosigned"
        " by witness.other-org.example/w1, 0 s old"
    )
    assert state.read_text() == second
    assert monitor(bank, folder, state).ok  # unchanged is fine too


def test_a_rewritten_log_is_named_and_the_remembered_checkpoint_kept(bank, tmp_path):
    folder, state = tmp_path / "published", tmp_path / "last-checkpoint"
    publish(folder, bank, remembered := bank.checkpoint())
    assert monitor(bank, folder, state).ok
    rewritten = Bank()
    rewritten.log = Log(signer_key=bank.log.signer_key, verifier_key=bank.log.verifier_key)
    rewritten.w1_signer, rewritten.w1_key = bank.w1_signer, bank.w1_key
    for index, text in enumerate(bank.log.entries):
        entry = json.loads(text)
        if index == 3:
            entry["action"] = "withdrawn"
        rewritten.log.append(entry)
    rewritten.record(5)
    publish(folder, rewritten, rewritten.checkpoint(), 20)
    result = monitor(bank, folder, state)
    assert result.reason == (
        "the checkpoint of 25 leaves is not consistent with the remembered one of 20: the log"
        " was rewritten"
    )
    assert state.read_text() == remembered


def cosigned_by_the_bank(bank, size, root):
    """A checkpoint the bank's key signed and the witness cosigned, whatever it says."""
    text = note.format_checkpoint(bank.log.origin, size, root)
    return note.add_signatures(
        note.sign(text, bank.log.signer_key), note.cosign(text, bank.w1_signer, NOW)
    )


def test_the_monitor_names_each_kind_of_failure(bank, tmp_path):
    folder, state = tmp_path / "published", tmp_path / "last-checkpoint"
    assert "neither an http(s) URL nor a folder" in monitor(bank, folder, state).reason
    folder.mkdir()
    assert "no checkpoint is published" in monitor(bank, folder, state).reason
    (folder / "checkpoint").write_text("")
    assert "is empty" in monitor(bank, folder, state).reason

    publish(folder, bank, bank.checkpoint(cosigned_at=(NOW - 7200,)))
    too_old = monitor(bank, folder, state, max_age=3600)
    assert too_old.reason == (
        "the newest checkpoint is too old: 7200 s (limit 3600 s; newest witness cosignature at"
        " 2026-10-26T05:33:20Z)"
    )
    publish(folder, bank, bank.checkpoint(witnesses=()))
    assert "only 0 of the 1 required" in monitor(bank, folder, state).reason
    impostor = Log(origin=bank.log.origin)
    impostor.append(json.loads(bank.log.entries[0]))
    publish(folder, bank, impostor.checkpoint())
    assert (
        "is not signed by the pinned log key"
        in monitor(bank, folder, state, witness_keys=[]).reason
    )
    assert not state.exists()  # nothing failed was remembered

    publish(folder, bank, bank.checkpoint())
    assert monitor(bank, folder, state).ok
    (folder / "checkpoint").write_text(cosigned_by_the_bank(bank, 19, bank.log.root(19)))
    assert monitor(bank, folder, state).reason == "the log shrank: 19 leaves, 20 remembered"
    (folder / "checkpoint").write_text(cosigned_by_the_bank(bank, 20, bank.log.root(19)))
    assert "the log was rewritten: 20 leaves as remembered" in monitor(bank, folder, state).reason
    bank.record(1)
    (folder / "checkpoint").write_text(bank.checkpoint())
    assert "no consistency proof from 20 to 21" in monitor(bank, folder, state).reason
    (folder / "consistency-20-21.json").write_text(json.dumps({"from": 19, "to": 21, "proof": []}))
    assert "not one from 20 to 21" in monitor(bank, folder, state).reason
    (folder / "checkpoint").write_text(bank.checkpoint(cosigned_at=(NOW + 3600,)))
    assert "in the future" in monitor(bank, folder, state, max_age=60).reason


def test_without_witnesses_the_age_comes_from_the_logs_time_line(bank, tmp_path):
    folder, state = tmp_path / "published", tmp_path / "last-checkpoint"
    publish(folder, bank, bank.checkpoint(witnesses=(), extensions=(f"time {NOW - 100}",)))
    result = monitor(bank, folder, state, witness_keys=[], max_age=3600)
    assert result.ok and "100 s old (log's time line" in result.checks[-2]
    assert not monitor(bank, folder, state, witness_keys=[], max_age=99).ok
    publish(folder, bank, bank.checkpoint(witnesses=()))
    assert (
        "cannot tell the checkpoint's age"
        in monitor(bank, folder, state, witness_keys=[], max_age=60).reason
    )
    # With witnesses the log's own word does not count: their cosignature times do.
    publish(folder, bank, bank.checkpoint(cosigned_at=(NOW - 500,), extensions=(f"time {NOW}",)))
    assert (
        "500 s (limit 60 s; newest witness cosignature"
        in monitor(bank, folder, state, max_age=60).reason
    )


class Published(BaseHTTPRequestHandler):
    pages: dict[str, bytes] = {}

    def do_GET(self):
        body = self.pages.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args):
        pass


@pytest.fixture
def bank_site():
    """The bank's public endpoints for auditors, on the loopback."""
    Published.pages = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), Published)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/ledger", Published.pages
    server.shutdown()
    server.server_close()


def test_the_monitor_reads_the_banks_endpoints_over_http(bank, tmp_path, bank_site):
    url, pages = bank_site
    state = tmp_path / "last-checkpoint"
    assert "(404 or missing)" in monitor(bank, url, state).reason
    pages["/ledger/checkpoint"] = bank.checkpoint().encode()
    assert monitor(bank, url, state).ok
    bank.record(4)
    pages["/ledger/checkpoint"] = bank.checkpoint().encode()
    assert "no consistency proof from 20 to 24" in monitor(bank, url, state).reason
    pages["/ledger/consistency?from=20&to=24"] = json.dumps(bank.log.consistency_json(20)).encode()
    assert monitor(bank, url, state).ok


def test_the_monitor_command_line(bank, tmp_path):
    folder, state = tmp_path / "published", tmp_path / "last-checkpoint"
    publish(folder, bank, bank.checkpoint(cosigned_at=(1_000_000_000,)))  # in 2001
    arguments = ["log", "--url", str(folder), "--state", str(state), "--log-key",
                 bank.log.verifier_key, "--witness-key", bank.w1_key]  # fmt: skip
    done = run_verifier(*arguments)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1].startswith(f"log ok: {bank.log.origin} has 20 leaves")
    done = run_verifier(*arguments, "--max-age", "60")
    assert done.returncode == 1 and "log FAILED: the newest checkpoint is too old" in done.stdout

"""The witness at another organisation, as a real process over real HTTP: it cosigns the
bank's log only while the log grows consistently, refuses a rewritten or forked log, tells
a log that is behind where it stands (409), keeps its state across restarts and lets only
one of several concurrent requests advance from the same size."""

import json
import subprocess
import sys
import threading

from ledger import merkle, note
from tests.ledger.conftest import ROOT
from tests.ledger.logs import Log, consent_entry


def grow(log, events):
    for number in range(events):
        log.append(consent_entry(customer=f"4{log.size:05d}", sequence=number + 1))


def stored_state(witness):
    [state_file] = witness.state_dir.glob("*.json")
    return json.loads(state_file.read_text())


def test_the_witness_cosigns_the_first_checkpoint_and_every_consistent_extension(witness, bank_log):
    first = bank_log.checkpoint()
    reply = witness.add_checkpoint(bank_log, 0, first)
    assert (reply.status, reply.content_type) == (200, "text/plain; charset=utf-8")
    cosigned = note.add_signatures(first, reply.body)
    assert note.verify_cosignatures(cosigned, [witness.verifier_key]).keys() == {
        "witness.other-org.example/w1"
    }

    grow(bank_log, 4)
    second = bank_log.checkpoint()
    reply = witness.add_checkpoint(bank_log, 5, second)
    assert reply.status == 200
    assert note.verify_cosignatures(note.add_signatures(second, reply.body), [witness.verifier_key])
    # What it cosigned is on disk already, before the answer came back.
    assert stored_state(witness)["size"] == 9
    assert stored_state(witness)["root_hash"] == note.b64encode(bank_log.root())


def test_the_same_checkpoint_again_is_cosigned_again(witness, bank_log):
    signed = bank_log.checkpoint()
    assert witness.add_checkpoint(bank_log, 0, signed).status == 200
    assert witness.add_checkpoint(bank_log, 5, signed, proof=[]).status == 200


def test_a_log_that_rewrote_an_event_gets_no_cosignature(witness, bank_log):
    """The bank signs a tree in which event 2 was changed: with the proof of that tree the
    consistency check fails (422), and the witness still stands at the honest size."""
    assert witness.add_checkpoint(bank_log, 0, bank_log.checkpoint()).status == 200
    rewritten = Log(signer_key=bank_log.signer_key, verifier_key=bank_log.verifier_key)
    for index, text in enumerate(bank_log.entries):
        entry = json.loads(text)
        if index == 2:
            entry["action"] = "withdrawn"
        rewritten.append(entry)
    grow(rewritten, 3)
    reply = witness.add_checkpoint(rewritten, 5, rewritten.checkpoint())
    assert reply.status == 422
    assert stored_state(witness)["size"] == 5
    assert list((witness.state_dir / "evidence").iterdir())  # kept, as proof of misbehaviour

    grow(bank_log, 3)
    assert witness.add_checkpoint(bank_log, 5, bank_log.checkpoint()).status == 200


def test_a_fork_at_the_same_size_is_a_conflict(witness, bank_log):
    assert witness.add_checkpoint(bank_log, 0, bank_log.checkpoint()).status == 200
    fork = Log(signer_key=bank_log.signer_key, verifier_key=bank_log.verifier_key)
    grow(fork, 5)
    reply = witness.add_checkpoint(fork, 5, fork.checkpoint(), proof=[])
    assert reply.status == 409
    assert reply.content_type != "text/x.tlog.size"
    assert stored_state(witness)["root_hash"] == note.b64encode(bank_log.root())


def test_an_old_size_that_is_not_the_witnesss_is_a_409_with_its_size(witness, bank_log):
    assert witness.add_checkpoint(bank_log, 0, bank_log.checkpoint()).status == 200
    grow(bank_log, 2)
    reply = witness.add_checkpoint(bank_log, 0, bank_log.checkpoint())
    assert (reply.status, reply.content_type, reply.body) == (409, "text/x.tlog.size", "5\n")
    reply = witness.add_checkpoint(bank_log, 3, bank_log.checkpoint())
    assert (reply.status, reply.body) == (409, "5\n")


def test_a_smaller_tree_than_the_one_cosigned_is_refused(witness, bank_log):
    grow(bank_log, 3)
    assert witness.add_checkpoint(bank_log, 0, bank_log.checkpoint()).status == 200
    smaller = bank_log.checkpoint(size=5)
    assert witness.add_checkpoint(bank_log, 8, smaller, proof=[]).status == 400  # old > size
    assert witness.add_checkpoint(bank_log, 5, smaller, proof=[]).status == 409
    assert stored_state(witness)["size"] == 8


def test_requests_it_cannot_trust_or_read_are_refused(witness, bank_log):
    signed = bank_log.checkpoint()
    stranger = Log(origin="another.example/log")
    grow(stranger, 1)
    assert witness.add_checkpoint(stranger, 0, stranger.checkpoint()).status == 404
    impostor = Log()  # the bank's origin, another key
    grow(impostor, 5)
    assert witness.add_checkpoint(impostor, 0, impostor.checkpoint()).status == 403
    forged = signed.replace(note.b64encode(bank_log.root()), note.b64encode(bytes(32)))
    assert witness.add_checkpoint(bank_log, 0, forged, proof=[]).status == 403
    assert witness.post(f"old 0\n\n{signed}".replace("old 0", "old 00")).status == 400
    assert witness.post(f"old 6\n\n{signed}").status == 400
    assert witness.post(f"old 0\nnot base64\n\n{signed}").status == 400
    assert witness.post(f"0\n\n{signed}").status == 400
    assert witness.post(signed).status in (400, 404)
    assert witness.post(b"old 0\n\n\xff\xfe").status == 400
    proof = "".join(f"{note.b64encode(bytes(32))}\n" for _ in range(64))
    assert witness.post(f"old 0\n{proof}\n{signed}").status == 400
    assert witness.get().status == 405
    assert witness.post(f"old 0\n\n{signed}", path="/other").status == 404
    assert not list(witness.state_dir.glob("*.json"))  # nothing was cosigned
    assert witness.add_checkpoint(bank_log, 0, signed).status == 200


def test_an_empty_tree_needs_the_empty_root(witness, bank_log):
    wrong = note.sign(note.format_checkpoint(bank_log.origin, 0, bytes(32)), bank_log.signer_key)
    assert witness.post(f"old 0\n\n{wrong}").status == 422
    empty = note.format_checkpoint(bank_log.origin, 0, merkle.EMPTY_ROOT)
    assert witness.post(f"old 0\n\n{note.sign(empty, bank_log.signer_key)}").status == 200


def test_the_witness_remembers_what_it_cosigned_across_a_restart(witness, bank_log):
    assert witness.add_checkpoint(bank_log, 0, bank_log.checkpoint()).status == 200
    witness.stop()
    witness.start()
    grow(bank_log, 2)
    reply = witness.add_checkpoint(bank_log, 0, bank_log.checkpoint())
    assert (reply.status, reply.body) == (409, "5\n")
    assert witness.add_checkpoint(bank_log, 5, bank_log.checkpoint()).status == 200


def test_concurrent_requests_from_the_same_size_advance_the_witness_only_once(witness, bank_log):
    """Eight checkpoints, each consistent with the size the witness holds, arrive at once:
    one is cosigned, the seven others learn the new size (409); none rolls it back."""
    assert witness.add_checkpoint(bank_log, 0, bank_log.checkpoint()).status == 200
    grow(bank_log, 8)
    bodies = []
    for size in range(6, 14):
        proof = "".join(f"{note.b64encode(h)}\n" for h in bank_log.consistency(5, size))
        bodies.append((size, f"old 5\n{proof}\n{bank_log.checkpoint(size=size)}"))
    replies = {}
    start = threading.Barrier(len(bodies))

    def submit(size, body):
        start.wait()
        replies[size] = witness.post(body)

    threads = [threading.Thread(target=submit, args=item) for item in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    cosigned = [size for size, reply in replies.items() if reply.status == 200]
    assert len(replies) == 8 and len(cosigned) == 1
    assert {reply.body for reply in replies.values() if reply.status == 409} == {f"{cosigned[0]}\n"}
    assert stored_state(witness)["size"] == cosigned[0]


def test_keygen_prints_a_signer_key_and_its_verifier_key():
    printed = subprocess.run(
        [sys.executable, "-m", "ledger.witness", "keygen", "--name", "witness.example/w9"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    signer, verifier = printed
    assert note.parse_signer_key(signer).public_key == note.parse_verifier_key(verifier).public_key
    assert note.parse_verifier_key(verifier).algorithm == note.ALG_COSIGNATURE_V1


def test_a_witness_whose_state_is_unreadable_cosigns_nothing(witness, bank_log):
    assert witness.add_checkpoint(bank_log, 0, bank_log.checkpoint()).status == 200
    [state_file] = witness.state_dir.glob("*.json")
    state_file.write_text("{not json")
    grow(bank_log, 1)
    assert witness.add_checkpoint(bank_log, 5, bank_log.checkpoint()).status == 500
    assert witness.add_checkpoint(bank_log, 0, bank_log.checkpoint()).status == 500

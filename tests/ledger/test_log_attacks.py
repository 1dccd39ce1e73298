"""The transparency log against an insider: with the runtime role, with the owner's
password, and with every key and file of the app host. Each attack is made for real on
the database; the verifier (`verify_consent_ledger`) must name it."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from ledger import keys, merkle, note
from ledger.models import Action, Checkpoint, ConsentEvent, LogLeaf
from tests.proof import checkpoint

insider = pytest.mark.django_db(transaction=True)
LEDGER_TABLES = (
    "consent_consentevent",
    "consent_consentstate",
    "ledger_logleaf",
    "ledger_treenode",
    "ledger_checkpoint",
)


def verify() -> tuple[bool, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_consent_ledger", stdout=out, stderr=err)
    except CommandError as error:
        return False, err.getvalue() + str(error)
    return True, out.getvalue()


@pytest.fixture
def owner(owner_connection):
    """The owner role, guards off: what an insider with the owner's password can do."""

    def run(sql, params=(), *, tables=LEDGER_TABLES):
        with owner_connection.transaction():
            owner_connection.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table in tables:
                owner_connection.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            owner_connection.execute(sql, params)
            for table in tables:
                owner_connection.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")

    return run


@pytest.fixture
def logged(customer_who_consented, customer_who_did_not, choose):
    """Sanne granted and withdrew, Daan granted; a checkpoint took all three in."""
    choose(customer_who_did_not, "offers_income")
    choose(customer_who_consented, "offers_spending", Action.WITHDRAWN)
    checkpoint()
    return customer_who_consented


def test_every_event_is_a_leaf_of_the_tree_the_checkpoint_signs(logged, settings):
    leaves = list(LogLeaf.objects.order_by("index"))
    events = {e.pk: e for e in ConsentEvent.objects.all()}
    assert [leaf.event_id for leaf in leaves] == sorted(events)
    for leaf in leaves:
        assert leaf.hash == merkle.leaf_hash(events[leaf.event_id].entry.encode()).hex()
    (signed,) = Checkpoint.objects.all()
    text, signers = note.open(signed.note, [keys.public_key()])
    parsed = note.parse_checkpoint(text)
    assert signers == [settings.LEDGER_ORIGIN] and parsed.size == 3
    assert parsed.root_hash == merkle.root(bytes.fromhex(leaf.hash) for leaf in leaves)
    assert (settings.LEDGER_CHECKPOINT_DIR / "checkpoint").read_text() == signed.note
    ok, out = verify()
    assert ok and "3 events, 3 leaves in the log, 1 checkpoint(s)" in out


def test_checkpoint_ledger_says_what_it_did_and_takes_each_event_in_once(logged, choose):
    choose(logged, "offers_balance")
    assert "took 1 event(s) into the log; checkpoint of size 4 signed" in checkpoint()
    assert "took 0 event(s) into the log; checkpoint of size 4 signed" in checkpoint()
    assert LogLeaf.objects.count() == 4


def test_the_public_endpoints_serve_the_newest_checkpoint_and_consistency_proofs(
    logged, choose, client
):
    choose(logged, "offers_balance")
    checkpoint()
    newest = client.get("/ledger/checkpoint")
    assert newest.status_code == 200 and newest["Content-Type"].startswith("text/plain")
    text, _ = note.open(newest.content.decode(), [keys.public_key()])
    new_root = note.parse_checkpoint(text).root_hash
    old_root = bytes.fromhex(Checkpoint.objects.get(size=3).root)
    proof = client.get("/ledger/consistency", {"from": 3, "to": 4}).json()
    assert merkle.verify_consistency(
        3, 4, old_root, new_root, [note.b64decode(h) for h in proof["proof"]]
    )
    assert client.get("/ledger/consistency", {"from": 2, "to": 4}).status_code == 404
    assert client.get("/ledger/consistency", {"from": "x"}).status_code == 400
    assert client.get("/ledger/public-key").content.decode().strip() == keys.public_key()


# --- As the runtime role --------------------------------------------------------------------
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE ledger_logleaf SET hash = repeat('0', 64)",
        "DELETE FROM ledger_logleaf",
        "UPDATE ledger_treenode SET hash = repeat('0', 64)",
        "DELETE FROM ledger_checkpoint",
        "UPDATE ledger_checkpoint SET note = ''",
        "TRUNCATE ledger_logleaf",
    ],
)
def test_the_runtime_role_cannot_change_the_log(logged, sql):
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        connection.cursor().execute(sql)


def test_a_leaf_out_of_order_is_refused_and_its_time_is_the_databases(logged):
    """The runtime role may add leaves (the checkpoint job runs as it), but only the next
    one, and never with a time of its choosing."""
    with pytest.raises(DatabaseError, match="out of order"), transaction.atomic():
        connection.cursor().execute(
            "INSERT INTO ledger_logleaf (index, hash, event_id) VALUES (7, repeat('0', 64), 0)"
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_logleaf (index, hash, event_id, sequenced_at)"
            " VALUES (3, repeat('0', 64), 0, '2001-01-01') RETURNING sequenced_at"
        )
        (logged_at,) = cursor.fetchone()
    assert logged_at.year != 2001
    # A leaf that is no event's is named by the verifier.
    ok, err = verify()
    assert not ok and "leaf 3 (event 0): the event is gone" in err


# --- With the owner's password ----------------------------------------------------------------
@insider
def test_a_deleted_tail_leaves_its_leaf_behind_and_is_named(logged, owner):
    """Sanne's withdrawal deleted and her state put back to granted: her chain is intact
    and the state mirrors it, but the log still holds the withdrawal's leaf."""
    withdrawal = ConsentEvent.objects.get(customer=logged, sequence=2)
    grant = ConsentEvent.objects.get(customer=logged, sequence=1)
    owner(
        "UPDATE consent_consentstate SET event_id = %s, state = 'granted', changed_at = %s"
        " WHERE customer_id = %s",
        [grant.pk, grant.occurred_at, logged.pk],
    )
    owner("DELETE FROM consent_consentevent WHERE id = %s", [withdrawal.pk])
    leaf = LogLeaf.objects.get(event_id=withdrawal.pk)
    ok, err = verify()
    assert not ok
    assert f"leaf {leaf.index} (event {withdrawal.pk}): the event is gone" in err


@insider
def test_a_deleted_customer_and_an_emptied_ledger_are_named(logged, owner):
    owner("DELETE FROM consent_consentstate")
    owner("DELETE FROM consent_consentevent")
    ok, err = verify()
    assert not ok
    for leaf in LogLeaf.objects.all():
        assert f"leaf {leaf.index} (event {leaf.event_id}): the event is gone" in err


@insider
def test_an_event_rewritten_with_the_stolen_chain_key_is_named_by_its_leaf(logged, owner):
    """With the chain key the insider rewrites the row, its HMAC and its entry, so the
    chain verifies; the leaf the checkpoint signed is the old entry's."""
    event = ConsentEvent.objects.get(customer=logged, sequence=2)
    event.channel = "branch"
    names = {"customer_number": "300001", "purpose_code": "offers_spending", "version": 1}
    event.hash = event.compute_hash(key=keys.chain_keyring().current.secret, **names)
    from ledger.chain import entry_of, salt_of

    entry = entry_of(event, salt=salt_of(event.entry), **names)
    owner(
        "UPDATE consent_consentevent SET channel = 'branch', hash = %s, entry = %s WHERE id = %s",
        [event.hash, entry, event.pk],
    )
    ok, err = verify()
    assert not ok and f"customer 300001: event {event.pk}: leaf" in err


@insider
def test_a_leaf_rewritten_too_no_longer_gives_the_signed_root(logged, owner):
    leaf = LogLeaf.objects.order_by("index").first()
    owner("UPDATE ledger_logleaf SET hash = repeat('a', 64) WHERE index = %s", [leaf.index])
    ok, err = verify()
    assert not ok and "checkpoint of size 3: the log's tree at that size has another root" in err


@insider
def test_leaves_cut_off_behind_a_checkpoint_are_named(logged, owner):
    last = LogLeaf.objects.order_by("-index").first()
    owner("DELETE FROM consent_consentstate WHERE event_id = %s", [last.event_id])
    owner("DELETE FROM consent_consentevent WHERE id = %s", [last.event_id])
    owner("DELETE FROM ledger_logleaf WHERE index = %s", [last.index])
    ok, err = verify()
    assert not ok and "checkpoint of size 3: the log holds only 2 leaves" in err


@insider
def test_a_checkpoint_signed_with_another_key_is_named(logged, owner):
    """A checkpoint re-signed with a key the insider made: the pinned key does not know it."""
    signed = Checkpoint.objects.get()
    text, _ = note.split_note(signed.note)
    other, _public = note.generate_key(note.parse_checkpoint(text).origin)
    owner(
        "UPDATE ledger_checkpoint SET note = %s WHERE id = %s",
        [note.sign(text, other), signed.pk],
    )
    ok, err = verify()
    assert not ok and "checkpoint of size 3 is not signed by the pinned key" in err


@insider
def test_a_key_on_disk_never_replaces_the_pinned_public_key(logged, settings, tmp_path):
    """The host's signing key swapped for the insider's own: checkpoints made with it do
    not verify, because the verifier reads the public key from configuration."""
    other, _public = note.generate_key(settings.LEDGER_ORIGIN)
    settings.LEDGER_SIGNING_KEY = other
    keys.reset_caches()
    try:
        checkpoint()
        ok, err = verify()
    finally:
        keys.reset_caches()
    assert not ok and "checkpoint of size 3 is not signed by the pinned key" in err


@insider
def test_every_checkpoint_deleted_while_the_log_holds_events_is_named(logged, owner):
    owner("DELETE FROM ledger_checkpoint")
    ok, err = verify()
    assert not ok and "no checkpoint at all, yet the log holds events" in err


def test_a_checkpoint_older_than_the_interval_is_named(logged, _frozen_clock, settings):
    _frozen_clock.shift(dt.timedelta(seconds=settings.LEDGER_CHECKPOINT_MAX_AGE_SECONDS + 60))
    ok, err = verify()
    assert not ok and "the log stopped being checkpointed, or was rolled back" in err
    checkpoint()
    assert verify()[0]


# --- With every key and file of the app host: the witness ------------------------------------
@pytest.fixture
def witnessed(start_witness, settings):
    """A witness at another organisation that trusts the bank's log key."""
    witness = start_witness(keys.public_key())
    settings.LEDGER_WITNESS_URLS = [witness.url]
    settings.LEDGER_WITNESS_KEYS = [witness.verifier_key]
    return witness


@insider
def test_the_witness_cosigns_each_consistent_checkpoint(witnessed, logged, choose):
    (first,) = Checkpoint.objects.all()
    assert first.cosigned_by == ["witness.other-org.example/w1"]
    choose(logged, "offers_balance")
    out = checkpoint()
    assert "checkpoint of size 4 signed, cosigned by witness.other-org.example/w1" in out
    ok, out = verify()
    assert ok and "cosigned by witness.other-org.example/w1" in out


@insider
def test_a_log_rewritten_with_every_key_of_the_app_host_is_named_by_the_witness(
    witnessed, logged, owner
):
    """The insider has the owner's password, the chain key and the log's signing key. They
    delete Sanne's withdrawal, rebuild the whole log from what is left and sign a fresh
    checkpoint. The witness, at another organisation, refuses to cosign a tree that is not
    an extension of the one it cosigned; the verifier, with the witness's key, names it."""
    withdrawal = ConsentEvent.objects.get(customer=logged, sequence=2)
    grant = ConsentEvent.objects.get(customer=logged, sequence=1)
    owner(
        "UPDATE consent_consentstate SET event_id = %s, state = 'granted', changed_at = %s"
        " WHERE customer_id = %s",
        [grant.pk, grant.occurred_at, logged.pk],
    )
    owner("DELETE FROM consent_consentevent WHERE id = %s", [withdrawal.pk])
    owner("DELETE FROM ledger_checkpoint")
    owner("DELETE FROM ledger_treenode")
    owner("DELETE FROM ledger_logleaf")
    with pytest.raises(CommandError, match="1 witness"):
        checkpoint()  # the rebuilt log, signed with the stolen key: the witness says no
    ok, err = verify()
    assert not ok
    assert f"the witness at {witnessed.url} cosigned a log of 3 leaves" in err
    assert "no checkpoint is cosigned by every witness by the pinned keys" in err


@insider
def test_a_log_rolled_back_behind_the_newest_checkpoint_is_named_by_the_witness(
    witnessed, logged, choose, owner
):
    """Delete the newest event, its leaf and the newest checkpoint: what is left looks like
    the log of an hour ago, but the witness remembers it was longer."""
    choose(logged, "offers_balance")
    checkpoint()
    newest = LogLeaf.objects.order_by("-index").first()
    event = ConsentEvent.objects.get(pk=newest.event_id)
    owner("DELETE FROM consent_consentstate WHERE event_id = %s", [event.pk])
    owner("DELETE FROM consent_consentevent WHERE id = %s", [event.pk])
    owner("DELETE FROM ledger_logleaf WHERE index = %s", [newest.index])
    owner("DELETE FROM ledger_checkpoint WHERE size = 4")
    ok, err = verify()
    assert not ok
    assert f"the witness at {witnessed.url} cosigned a log of 4 leaves; the database holds 3" in err


def test_a_witness_that_cannot_be_asked_fails_the_verification(logged, settings):
    settings.LEDGER_WITNESS_URLS = ["http://127.0.0.1:9"]
    ok, err = verify()
    assert not ok and "cannot check the log against the witness at http://127.0.0.1:9" in err


# --- Keys on several hosts --------------------------------------------------------------------
def test_a_host_with_another_chain_key_refuses_to_record(logged, settings, choose):
    settings.LEDGER_HMAC_KEY = "a-key-nobody-else-has"
    keys.reset_caches()
    try:
        with pytest.raises(keys.ChainKeyMismatch, match="not the key the ledger's newest"):
            choose(logged, "offers_balance")
    finally:
        keys.reset_caches()
    assert ConsentEvent.objects.filter(customer=logged).count() == 2


def test_no_chain_key_is_made_for_a_ledger_that_holds_events(logged, settings, tmp_path):
    settings.LEDGER_HMAC_KEY, settings.LEDGER_HMAC_KEY_FILE = None, tmp_path / "chain.key"
    with pytest.raises(CommandError, match="The ledger holds 3 events"):
        call_command("ledger_keys", "init", stdout=io.StringIO())
    assert not (tmp_path / "chain.key").exists()


def test_no_signing_key_is_made_for_a_log_with_checkpoints(logged, settings, tmp_path):
    settings.LEDGER_SIGNING_KEY, settings.LEDGER_SIGNING_KEY_FILE = None, tmp_path / "sign.key"
    with pytest.raises(CommandError, match="checkpoint"):
        call_command("ledger_keys", "init", stdout=io.StringIO())
    assert not (tmp_path / "sign.key").exists()


def test_a_fresh_machine_gets_its_keys_once(db, settings, tmp_path):
    settings.LEDGER_HMAC_KEY = settings.LEDGER_SIGNING_KEY = settings.LEDGER_PUBLIC_KEY = None
    settings.LEDGER_HMAC_KEY_FILE = tmp_path / "chain.key"
    settings.LEDGER_SIGNING_KEY_FILE = tmp_path / "sign.key"
    settings.LEDGER_PUBLIC_KEY_FILE = tmp_path / "public.key"
    out = io.StringIO()
    call_command("ledger_keys", "init", stdout=out)
    assert out.getvalue().count("created") == 3
    assert (tmp_path / "chain.key").stat().st_mode & 0o077 == 0
    signer = note.parse_signer_key((tmp_path / "sign.key").read_text().strip())
    public = note.parse_verifier_key((tmp_path / "public.key").read_text().strip())
    assert signer.name == public.name == settings.LEDGER_ORIGIN
    assert signer.public_key == public.public_key
    again = io.StringIO()
    call_command("ledger_keys", "init", stdout=again)
    assert "the ledger's keys are in place" in again.getvalue()

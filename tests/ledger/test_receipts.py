"""A receipt a customer downloads from the running site proves their choice to anyone who
holds only the bank's public key (and the witness's): `python -m ledger.verify receipt`,
no Django, no database. One changed byte of what the log covers makes it fail."""

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from ledger import keys
from ledger.models import ConsentEvent
from tests.factories import CustomerFactory
from tests.pages import hidden_fields
from tests.proof import checkpoint

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


def standalone_verify(receipt: Path, *keys_: str) -> subprocess.CompletedProcess[str]:
    """The verifier as an auditor runs it: its own process, only the keys it is given."""
    return subprocess.run(
        [sys.executable, "-m", "ledger.verify", "receipt", str(receipt), *keys_],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def download_receipt(base_url: str, customer, event: ConsentEvent) -> bytes:
    browser = requests.Session()
    login = browser.get(f"{base_url}/history/", timeout=30)
    assert urlsplit(login.url).path == "/accounts/login/"
    form = hidden_fields(login.text) | {"username": customer.customer_number, "password": PASSWORD}
    assert browser.post(login.url, data=form, timeout=30).ok
    response = browser.get(f"{base_url}/history/{event.pk}/receipt.json", timeout=30)
    assert response.status_code == 200
    return response.content


@pytest.fixture
def witnessed(start_witness, settings):
    witness = start_witness(keys.public_key())
    settings.LEDGER_WITNESS_URLS = [witness.url]
    settings.LEDGER_WITNESS_KEYS = [witness.verifier_key]
    return witness


@pytest.mark.django_db(transaction=True)
def test_a_receipt_downloaded_from_the_site_verifies_with_only_the_public_keys(
    live_server, witnessed, choose, tmp_path
):
    sanne = CustomerFactory(customer_number="970001")
    choose(sanne, "offers_spending")
    choose(sanne, "offers_spending", "withdrawn")
    checkpoint()
    withdrawal = ConsentEvent.objects.get(customer=sanne, sequence=2)
    receipt = tmp_path / "receipt.json"
    receipt.write_bytes(download_receipt(live_server.url, sanne, withdrawal))
    assert json.loads(receipt.read_bytes())["proof"]["status"] == "included"

    pinned = ("--log-key", keys.public_key(), "--witness-key", witnessed.verifier_key)
    result = standalone_verify(receipt, *pinned)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"receipt ok: event {withdrawal.receipt_id} is leaf 1 of 2" in result.stdout
    assert "cosigned by witness.other-org.example/w1" in result.stdout

    # Any byte of the entry or the proof changed: no longer a proof.
    data = json.loads(receipt.read_bytes())
    for change in (
        lambda d: d["proof"].update(entry=d["proof"]["entry"].replace("withdrawn", "granted")),
        lambda d: d.update(action="granted"),
        lambda d: d["proof"].update(leafIndex=0),
        lambda d: d["proof"]["inclusionProof"].__setitem__(
            0,
            ("B" if d["proof"]["inclusionProof"][0][0] == "A" else "A")
            + d["proof"]["inclusionProof"][0][1:],
        ),
    ):
        forged = json.loads(json.dumps(data))
        change(forged)
        receipt.write_text(json.dumps(forged))
        result = standalone_verify(receipt, *pinned)
        assert result.returncode == 1 and "receipt FAILED" in result.stdout, result.stdout

    # With another log key pinned (a bank that re-signed its log): refused.
    receipt.write_text(json.dumps(data))
    impostor = keys.note.generate_key(keys.note.parse_verifier_key(keys.public_key()).name)[1]
    result = standalone_verify(receipt, "--log-key", impostor)
    assert result.returncode == 1 and "receipt FAILED" in result.stdout


@pytest.mark.django_db(transaction=True)
def test_a_receipt_before_the_next_checkpoint_says_its_proof_is_pending(
    live_server, choose, tmp_path
):
    sanne = CustomerFactory(customer_number="970002")
    choose(sanne, "offers_income")
    event = ConsentEvent.objects.get(customer=sanne)
    receipt = tmp_path / "receipt.json"
    receipt.write_bytes(download_receipt(live_server.url, sanne, event))
    assert json.loads(receipt.read_bytes())["proof"]["status"] == "pending"
    result = standalone_verify(receipt, "--log-key", keys.public_key())
    assert result.returncode == 1 and "is not in a signed checkpoint yet" in result.stdout


def test_the_readable_receipt_says_against_which_checkpoint_the_choice_was_proved(
    customer_who_consented, client
):
    client.force_login(customer_who_consented.user)
    event = ConsentEvent.objects.get(customer=customer_who_consented)
    page = client.get(f"/history/{event.pk}/receipt/").content.decode()
    assert "Nog niet: de bank neemt uw keuze binnen enkele minuten op" in page
    checkpoint()
    page = client.get(f"/history/{event.pk}/receipt/").content.decode()
    assert "Keuze 1 van de 1 in de log van de bank." in page
    assert "Bewezen met het checkpoint van" in page and "getekend door de bank" in page

"""A real witness process for the transparency-log tests: `python -m ledger.witness serve`
on a free port of the loopback, spoken to over real HTTP. No database is involved."""

import http.client
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger import note
from tests.ledger.logs import Log, consent_entry

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Reply:
    status: int
    content_type: str
    body: str


@dataclass
class WitnessProcess:
    """A witness running in its own process, and what a log needs to talk to it."""

    signer_key: str
    verifier_key: str
    key_file: Path
    state_dir: Path
    log_keys: tuple[str, ...]
    process: subprocess.Popen[str] | None = None
    url: str = ""

    def start(self) -> "WitnessProcess":
        command = [
            sys.executable,
            "-m",
            "ledger.witness",
            "serve",
            "--key-file",
            str(self.key_file),
            "--state-dir",
            str(self.state_dir),
            "--listen",
            "127.0.0.1:0",
        ]
        for vkey in self.log_keys:
            command += ["--log-key", vkey]
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        address = self.process.stdout.readline().strip()
        if not address:
            self.stop()
            pytest.fail("the witness did not start")
        self.url = f"http://{address}"
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            for stream in (self.process.stdout, self.process.stderr):
                if stream is not None:
                    stream.close()
            self.process = None

    def post(self, body: str | bytes, path: str = "/add-checkpoint") -> Reply:
        return self.request("POST", path, body.encode() if isinstance(body, str) else body)

    def get(self, path: str = "/add-checkpoint") -> Reply:
        return self.request("GET", path)

    def request(self, method: str, path: str, body: bytes | None = None) -> Reply:
        host, port = self.url.removeprefix("http://").rsplit(":", 1)
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            connection.request(method, path, body=body)
            response = connection.getresponse()
            text = response.read().decode()
            return Reply(response.status, response.getheader("Content-Type", ""), text)
        finally:
            connection.close()

    def add_checkpoint(
        self, log: Log, old: int, signed: str, proof: list[bytes] | None = None
    ) -> Reply:
        """The add-checkpoint request a log sends: old size, proof, blank line, note."""
        proof = (
            log.consistency(old, note.parse_checkpoint(note.split_note(signed)[0]).size)
            if proof is None
            else proof
        )
        lines = "".join(f"{note.b64encode(h)}\n" for h in proof)
        return self.post(f"old {old}\n{lines}\n{signed}")


@pytest.fixture
def bank_log():
    """The bank's log, with five events in it."""
    log = Log()
    for sequence in range(1, 6):
        log.append(consent_entry(customer=f"30000{sequence}", sequence=1))
    return log


@pytest.fixture
def start_witness(tmp_path):
    """Start a witness at another organisation that trusts the given log keys; each is
    stopped at the end of the test."""
    started = []

    def start(*log_keys):
        signer_key, verifier_key = note.generate_witness_key("witness.other-org.example/w1")
        folder = tmp_path / f"witness-{len(started)}"
        folder.mkdir()
        key_file = folder / "witness.key"
        key_file.write_text(f"{signer_key}\n{verifier_key}\n")
        process = WitnessProcess(signer_key, verifier_key, key_file, folder / "state", log_keys)
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def witness(start_witness, bank_log):
    """A witness that trusts the bank's log key, running."""
    return start_witness(bank_log.verifier_key)

"""A witness for the ledger's transparency log, to run at another organisation: it cosigns
a checkpoint only when it is consistent with the last one it cosigned for that log.

Protocol: C2SP tlog-witness (c2sp.org/tlog-witness, the add-checkpoint call as in v1.0.0).
`POST /add-checkpoint` with the body

    old <size>\\n
    <consistency proof hash, base64>\\n      (zero or more, at most 63)
    \\n
    <the checkpoint, a signed note>

is answered, in the order the specification gives its checks:

- 400 Bad Request: the body or the checkpoint is malformed, or `old` > the checkpoint's size;
- 404 Not Found: no log key is configured for the checkpoint's origin;
- 403 Forbidden: no signature by the log's key, or one that does not verify;
- 409 Conflict, `Content-Type: text/x.tlog.size`, body `<size>\\n`: `old` is not the size
  this witness last cosigned for that origin (0 if never);
- 409 Conflict: the same size as last cosigned, with another root hash;
- 422 Unprocessable Entity: the consistency proof from the stored (size, root) to the new
  checkpoint does not verify (also: a checkpoint of size 0 without the empty root);
- 200, `text/plain; charset=utf-8`: one cosignature/v1 line (tlog-cosignature);
- 500: its own state cannot be read (it never cosigns then).

Beyond the specification, `GET /checkpoint?origin=<origin>` answers the newest checkpoint
the witness cosigned for a log, with a fresh cosignature: what the bank's own verifier
compares its database with (`verify_consent_ledger`), so a log rolled back or emptied
behind the witness's back is named.

A request signed by the log that contradicts what the witness cosigned (the 409 for
another root, a 422) is kept in `<state-dir>/evidence/`: it may prove a fork.

The new (size, root hash, checkpoint) is written durably before the answer (a temporary
file, fsync, rename, fsync of the folder), and one lock serialises checking and storing,
so two concurrent requests can never both advance from the same size (the race the
specification describes). No Django: the standard library and `cryptography` only.

    python -m ledger.witness keygen --name witness.example.org/w1 > witness.key
    python -m ledger.witness serve --key-file witness.key --log-key <log vkey> \\
        --state-dir /var/lib/ledger-witness [--listen 127.0.0.1:7380]
"""

import argparse
import hashlib
import json
import os
import signal
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType

from ledger import merkle, note

MAX_BODY = 64 * 1024
MAX_PROOF_LINES = 63
SIZE_CONTENT_TYPE = "text/x.tlog.size"


@dataclass(frozen=True)
class Answer:
    status: HTTPStatus
    body: str
    content_type: str = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Cosigned:
    """What the witness remembers of a log: the last checkpoint it cosigned."""

    size: int
    root_hash: bytes


class Witness:
    """The witness's decisions and its state, without HTTP (the handler below is thin)."""

    def __init__(self, *, signer_key: str, log_keys: Iterable[str], state_dir: Path) -> None:
        signer = note.parse_signer_key(signer_key)
        if signer.algorithm != note.ALG_COSIGNATURE_V1:
            raise note.InvalidKey("a witness signs with a cosignature/v1 key (type 0x04)")
        self.signer_key, self.name = signer_key, signer.name
        self.log_keys: dict[str, str] = {}  # origin (= the log key's name) -> its vkey
        for vkey in log_keys:
            verifier = note.parse_verifier_key(vkey)
            if verifier.algorithm != note.ALG_ED25519:
                raise note.InvalidKey(f"log key {verifier.name}: an Ed25519 note key (0x01)")
            self.log_keys[verifier.name] = vkey.strip()
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    # --- state: one JSON file per log, replaced atomically --------------------------------
    def _path(self, origin: str) -> Path:
        return self.state_dir / f"{hashlib.sha256(origin.encode()).hexdigest()}.json"

    def cosigned(self, origin: str) -> Cosigned:
        path = self._path(origin)
        if not path.exists():
            return Cosigned(0, merkle.EMPTY_ROOT)
        state = json.loads(path.read_text())
        return Cosigned(state["size"], note.b64decode(state["root_hash"]))

    def _store(self, origin: str, size: int, root_hash: bytes, checkpoint: str) -> None:
        state = {
            "origin": origin,
            "size": size,
            "root_hash": note.b64encode(root_hash),
            "checkpoint": checkpoint,
        }
        descriptor, temporary = tempfile.mkstemp(dir=self.state_dir, suffix=".tmp")
        try:
            with os.fdopen(descriptor, "w") as file:
                json.dump(state, file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self._path(origin))
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        folder = os.open(self.state_dir, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

    def _keep_evidence(self, body: bytes, *, now: int) -> None:
        """A request signed by the log that contradicts what we cosigned may prove that
        the log misbehaved (the specification allows keeping it): kept, never cosigned."""
        evidence = self.state_dir / "evidence"
        evidence.mkdir(exist_ok=True)
        (evidence / f"{now}-{hashlib.sha256(body).hexdigest()[:16]}.txt").write_bytes(body)

    # --- add-checkpoint -------------------------------------------------------------------
    def add_checkpoint(self, body: bytes, *, now: int) -> Answer:
        try:
            old, proof, signed = _parse_request(body)
            text, _ = note.split_note(signed)
        except note.NoteError as error:
            return Answer(HTTPStatus.BAD_REQUEST, f"{error}\n")
        origin = text.split("\n", 1)[0]
        log_key = self.log_keys.get(origin)
        if log_key is None:
            return Answer(HTTPStatus.NOT_FOUND, f"unknown log {origin!r}\n")
        try:
            note.open(signed, [log_key])
        except (note.UnknownKey, note.InvalidSignature) as error:
            return Answer(HTTPStatus.FORBIDDEN, f"{error}\n")
        try:
            checkpoint = note.parse_checkpoint(text)
        except note.NoteError as error:
            return Answer(HTTPStatus.BAD_REQUEST, f"{error}\n")
        if old > checkpoint.size:
            return Answer(HTTPStatus.BAD_REQUEST, "old size is larger than the checkpoint's\n")
        if checkpoint.size == 0 and checkpoint.root_hash != merkle.EMPTY_ROOT:
            return Answer(HTTPStatus.UNPROCESSABLE_ENTITY, "size 0 needs the empty root\n")
        with self._lock:
            known = self.cosigned(origin)
            if old != known.size:
                return Answer(HTTPStatus.CONFLICT, f"{known.size}\n", SIZE_CONTENT_TYPE)
            if old == checkpoint.size and checkpoint.root_hash != known.root_hash:
                self._keep_evidence(body, now=now)
                return Answer(HTTPStatus.CONFLICT, "same size, another root hash\n")
            consistent = merkle.verify_consistency(
                known.size, checkpoint.size, known.root_hash, checkpoint.root_hash, proof
            )
            if not consistent:
                self._keep_evidence(body, now=now)
                return Answer(HTTPStatus.UNPROCESSABLE_ENTITY, "consistency proof fails\n")
            self._store(origin, checkpoint.size, checkpoint.root_hash, signed)
        return Answer(HTTPStatus.OK, note.cosign(text, self.signer_key, now))

    # --- the newest checkpoint (not in C2SP tlog-witness: ours, for verifiers) -----------
    def latest(self, origin: str, *, now: int) -> Answer:
        """The newest checkpoint the witness cosigned for `origin`, cosigned again now: a
        verifier compares it with the log the bank's database holds, so a log rolled
        back or emptied behind the witness's back is named."""
        path = self._path(origin)
        if origin not in self.log_keys or not path.exists():
            return Answer(HTTPStatus.NOT_FOUND, f"no checkpoint of {origin!r}\n")
        signed = json.loads(path.read_text())["checkpoint"]
        text, _ = note.split_note(signed)
        return Answer(
            HTTPStatus.OK, note.add_signatures(signed, note.cosign(text, self.signer_key, now))
        )


def _parse_request(body: bytes) -> tuple[int, list[bytes], str]:
    """(old size, consistency proof, checkpoint note) of an add-checkpoint body."""
    try:
        decoded = body.decode("utf-8")
    except UnicodeDecodeError:
        raise note.MalformedNote("the body is not UTF-8") from None
    head, separator, signed = decoded.partition("\n\n")
    if not separator:
        raise note.MalformedNote("no empty line before the checkpoint")
    lines = head.split("\n")
    size = lines[0].removeprefix("old ")
    if lines[0] == size or not size.isascii() or not size.isdigit():
        raise note.MalformedNote("the body starts with `old <size>`")
    if size != "0" and size.startswith("0"):
        raise note.MalformedNote("the old size has leading zeroes")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise note.MalformedNote(f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = [note.b64decode(line) for line in lines[1:]]
    if any(len(hashed) != merkle.HASH_SIZE for hashed in proof):
        raise note.MalformedNote("a proof line is not a 32-byte hash")
    return int(size), proof, signed


# --- HTTP ---------------------------------------------------------------------------------
class Handler(BaseHTTPRequestHandler):
    server: "WitnessServer"
    protocol_version = "HTTP/1.1"  # keep-alive, as the specification recommends

    def do_POST(self) -> None:
        length = self.headers.get("Content-Length", "")
        if not length.isdigit() or int(length) > MAX_BODY:
            self.close_connection = True  # the body, if any, stays unread
            return self._send(Answer(HTTPStatus.BAD_REQUEST, "a body of at most 64 KiB\n"))
        body = self.rfile.read(int(length))
        if self.path != "/add-checkpoint":
            return self._send(Answer(HTTPStatus.NOT_FOUND, "not found\n"))
        try:
            answer = self.server.witness.add_checkpoint(body, now=int(time.time()))
        except Exception as error:  # e.g. unreadable state: refuse, never cosign blindly
            sys.stderr.write(f"witness: error: {error!r}\n")
            answer = Answer(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error\n")
        self._send(answer)

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/checkpoint":
            origin = urllib.parse.parse_qs(url.query).get("origin", [""])[0]
            return self._send(self.server.witness.latest(origin, now=int(time.time())))
        status = HTTPStatus.METHOD_NOT_ALLOWED
        if self.path != "/add-checkpoint":
            status = HTTPStatus.NOT_FOUND
        self._send(Answer(status, f"{status.phrase}\n"))

    def _send(self, answer: Answer) -> None:
        body = answer.body.encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(body)))
        if answer.status == HTTPStatus.METHOD_NOT_ALLOWED:
            self.send_header("Allow", "POST")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        sys.stderr.write(f"witness: {self.address_string()} {format % args}\n")


class WitnessServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], witness: Witness) -> None:
        super().__init__(address, Handler)
        self.witness = witness


# --- Command line -------------------------------------------------------------------------
def _listen_address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("want HOST:PORT, e.g. 127.0.0.1:7380")
    return host.strip("[]"), int(port)


def _read_signer_key(path: Path) -> str:
    for line in path.read_text().splitlines():
        if line.startswith("PRIVATE+KEY+"):
            return line.strip()
    raise SystemExit(f"{path}: no PRIVATE+KEY+... line (make one with `keygen`)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ledger.witness", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    keygen = commands.add_parser("keygen", help="print a new signer key and its verifier key")
    keygen.add_argument("--name", required=True, help="the witness's name, e.g. example.org/w1")
    serve = commands.add_parser("serve", help="answer add-checkpoint requests")
    serve.add_argument("--key-file", type=Path, required=True, help="holds the signer key")
    serve.add_argument("--log-key", action="append", required=True, help="a log's vkey")
    serve.add_argument("--state-dir", type=Path, required=True)
    serve.add_argument("--listen", type=_listen_address, default=("127.0.0.1", 7380))
    arguments = parser.parse_args(argv)

    if arguments.command == "keygen":
        signer, verifier = note.generate_witness_key(arguments.name)
        print(signer)
        print(verifier)
        return 0
    try:
        witness = Witness(
            signer_key=_read_signer_key(arguments.key_file),
            log_keys=arguments.log_key,
            state_dir=arguments.state_dir,
        )
    except note.NoteError as error:
        raise SystemExit(f"witness: {error}") from None
    server = WitnessServer(arguments.listen, witness)
    print(f"{arguments.listen[0]}:{server.server_port}", flush=True)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

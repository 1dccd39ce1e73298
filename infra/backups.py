"""Backing up and restoring the whole database with its keys, as the owner.

A backup is a folder: `database.dump` (`pg_dump` custom format, by the embedded server's
own PostgreSQL 18 tools, which read any server from 9.2 on), `keys/` (the ledger's keys
present on this host), `checkpoints/` (a copy of the checkpoint host's files) and
`manifest.json` (when, and the SHA-256 of every file).

A restore puts the database back from `database.dump`, and puts back only the keys this
host lacks (never replacing a key in use); the ledger's `restore` command then makes the
ledger whole again against the checkpoint host's current files (`ledger.restore`).
"""

import datetime as dt
import hashlib
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from infra.database import SHARED_CACHE_TABLE, Credentials, owner_credentials, postgres_tool

KEY_SETTINGS = (
    "LEDGER_HMAC_KEY_FILE",
    "LEDGER_SIGNING_KEY_FILE",
    "LEDGER_PUBLIC_KEY_FILE",
)


class BackupFailed(Exception):
    pass


def _owner_environment(database: str | None = None) -> tuple[list[str], dict[str, str]]:
    """libpq arguments and environment for the owner role on this database (or another
    of the server's, e.g. `postgres` to drop and create this one)."""
    settings_dict = connection.settings_dict
    owner = _owner()
    name = database or settings_dict["NAME"]
    arguments = ["--dbname", name, "--username", owner["USER"]]
    if owner["HOST"]:
        arguments += ["--host", str(owner["HOST"])]
    if owner["PORT"]:
        arguments += ["--port", str(owner["PORT"])]
    environment = {"PGPASSWORD": owner["PASSWORD"] or ""}
    return arguments, environment


def _owner() -> Credentials:
    """The owner's credentials, read now: backups and restores are the owner's own
    commands (README, "Running in production")."""
    try:
        return owner_credentials(connection.settings_dict)
    except ImproperlyConfigured as error:
        raise BackupFailed(str(error)) from None


def _run(tool: str, arguments: list[str], *, database: str | None = None) -> None:
    base, environment = _owner_environment(database)
    result = subprocess.run(  # noqa: S603 (our own tools and arguments)
        [str(postgres_tool(tool)), *base, *arguments],
        env={**_path_environment(), **environment},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupFailed(f"{tool} failed: {result.stderr.strip()[-2000:]}")


def _path_environment() -> dict[str, str]:
    import os

    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Backup:
    folder: Path
    manifest: dict[str, object]


def make_backup(*, into: Path, at: dt.datetime) -> Backup:
    folder = Path(into) / f"backup-{at.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"
    folder.mkdir(parents=True)
    # The shared cache's rows are left out (its table is kept): rate-limit counts of the
    # last minute, which a restore must not bring back and a backup need not keep.
    _run(
        "pg_dump",
        [
            "--format", "custom",
            "--exclude-table-data", f"public.{SHARED_CACHE_TABLE}",
            "--file", str(folder / "database.dump"),
        ],
    )  # fmt: skip
    keys = folder / "keys"
    keys.mkdir(mode=0o700)
    for name in KEY_SETTINGS:
        path = Path(getattr(settings, name))
        if path.is_file():
            shutil.copy2(path, keys / path.name)
            (keys / path.name).chmod(0o600)
    checkpoints = Path(settings.LEDGER_CHECKPOINT_DIR)
    if checkpoints.is_dir():
        shutil.copytree(checkpoints, folder / "checkpoints")
    manifest = {
        "taken_at": at.astimezone(dt.UTC).isoformat(),
        "database": connection.settings_dict["NAME"],
        "files": {
            str(path.relative_to(folder)): _sha256(path)
            for path in sorted(folder.rglob("*"))
            if path.is_file()
        },
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return Backup(folder, manifest)


def _recreate_database() -> None:
    """Drop the database (as its owner, from the server's `postgres` database), so that
    the dump goes back into nothing. Refuses while anyone else is connected: stop the
    web, the workers and the jobs first."""
    import psycopg
    from psycopg import sql

    name = connection.settings_dict["NAME"]
    owner = _owner()
    connection.close()
    with psycopg.connect(
        host=owner["HOST"] or None,
        port=owner["PORT"] or None,
        user=owner["USER"],
        password=owner["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        row = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        ).fetchone()
        others = row[0] if row else 0
        if others:
            raise BackupFailed(
                f"{others} other session(s) are connected to {name}: stop the web, the"
                " workers and the scheduled jobs first"
            )
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def restore_database(*, folder: Path) -> dict[str, object]:
    """Put the database back from a backup folder (checked against its manifest first);
    the keys this host lacks too. Returns the manifest."""
    folder = Path(folder)
    manifest: dict[str, object] = json.loads((folder / "manifest.json").read_text())
    files = manifest["files"]
    assert isinstance(files, dict)
    for name, digest in files.items():
        if _sha256(folder / name) != digest:
            raise BackupFailed(f"{name} in the backup was changed or is damaged")
    _recreate_database()
    # --create: the database as it was dumped, its own privileges included.
    _run(
        "pg_restore",
        ["--create", "--exit-on-error", str(folder / "database.dump")],
        database="postgres",
    )
    for name in KEY_SETTINGS:
        target = Path(getattr(settings, name))
        kept = folder / "keys" / target.name
        if kept.is_file() and not target.exists():
            shutil.copy2(kept, target)
            target.chmod(0o600)
    return manifest

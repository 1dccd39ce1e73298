#!/bin/sh
# Remake tests/upgrades/0c36419.sql.gz: a database made at commit 0c36419 (the last layout
# before the ledger, infra, banking and lifecycle apps), with rows in every table, dumped
# as plain SQL. tests/upgrades/test_from_0c36419.py migrates it to today's layout and
# compares every row. Not run by the tests; run it by hand (a few minutes):
#
#     tests/upgrades/make_fixture.sh
#
# It checks the commit out into a temporary folder (`git worktree`), installs that
# commit's dependencies in its own .venv, starts that checkout's own embedded PostgreSQL
# (a data folder in the temporary folder), migrates, loads the demo with 4 synthetic
# customers and runs fill_0c36419.py around a backup and a restore; then dumps the
# database as the owner, and stops the server and removes the checkout again. The
# ledger's keys are the test settings' (config/settings/test.py), so the events verify
# under them.
set -eu
COMMIT=0c36419
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT="$HERE/$COMMIT.sql.gz"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fixture-$COMMIT.XXXXXX")
CHECKOUT="$WORK/checkout"

cleanup() {
    if [ -x "$CHECKOUT/.venv/bin/python" ]; then
        (cd "$CHECKOUT" && .venv/bin/python -c \
            'from config.database import embedded_server; embedded_server().stop()' \
            >/dev/null 2>&1) || true
    fi
    git -C "$REPO" worktree remove --force "$CHECKOUT" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

git -C "$REPO" worktree add --detach "$CHECKOUT" "$COMMIT" >/dev/null
cd "$CHECKOUT"
make .venv/.installed >/dev/null

export DJANGO_SETTINGS_MODULE=config.settings.dev
export PGDATA_DIR="$WORK/pgdata"
export LEDGER_CHECKPOINT_DIR="$WORK/checkpoints"
export LEDGER_HMAC_KEY="test-chain-key-not-secret"
export LEDGER_ORIGIN="voorbeeldbank.example/consent-ledger"
export LEDGER_SIGNING_KEY="PRIVATE+KEY+voorbeeldbank.example/consent-ledger+247653fb+AZ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g"
export LEDGER_PUBLIC_KEY="voorbeeldbank.example/consent-ledger+247653fb+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea"
PY=.venv/bin/python

$PY manage.py migrate --no-input -v0
$PY manage.py load_demo --customers 4 >/dev/null
$PY "$HERE/fill_0c36419.py" data
$PY manage.py backup --into "$WORK/backups"
$PY "$HERE/fill_0c36419.py" lost
$PY manage.py restore "$(ls -d "$WORK"/backups/backup-*)" --yes
$PY "$HERE/fill_0c36419.py" after

# As the owner, who owns every table and function; the roles' names stay in the dump
# (the test renames them when its server's roles have other names).
PG_DUMP=$($PY -c 'from config.database import postgres_tool; print(postgres_tool("pg_dump"))')
PGPASSWORD=$(cat "$WORK/pgdata-passwords/consent_owner") "$PG_DUMP" --no-sync \
    --host "$PGDATA_DIR" --username consent_owner --dbname consent | gzip -9n > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "wrote $OUT ($(wc -c < "$OUT") bytes)"

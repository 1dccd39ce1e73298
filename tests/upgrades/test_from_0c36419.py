"""A database made at commit 0c36419 (the layout before the ledger, infra, banking and
lifecycle apps), with rows in every table, migrated by today's `migrate`: no row is lost
or changed.

The fixture `0c36419.sql.gz` is a plain `pg_dump` of that database (how it was made:
`README.md` next to it, `make_fixture.sh` remakes it). The test loads it into a database
of its own on the test server, reads every row of every table, runs `migrate` as a
deployment would (another process, the owner's URL given to it alone) and reads the rows
again. New columns are allowed (only the columns the table had are compared), new tables
too; what the migrations may change is listed here, and nothing else.
"""

import gzip
import os
import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from django.db.migrations.loader import MigrationLoader
from psycopg import sql

from infra.database import postgres_tool
from tests.upgrades.databases import ScratchDatabase, runtime_role

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "0c36419.sql.gz"
# The roles as the fixture's server named them.
FIXTURE_OWNER, FIXTURE_RUNTIME = "consent_owner", "consent_app"
SCHEMAS = ("public", "import_staging")
# The models that moved from `offers` to `banking` keep their content type (and with it
# the permissions groups hold), under the new app label.
MOVED_CONTENT_TYPES = {
    ("offers", model) for model in ("product", "account", "holding", "transaction")
}

Rows = dict[str, Counter]

pytestmark = [pytest.mark.slow]


def fixture_sql(*, owner: str, runtime: str) -> str:
    """The dump, with the roles of this server in place of the fixture's."""
    text = gzip.decompress(FIXTURE.read_bytes()).decode()
    for old, new in ((FIXTURE_OWNER, owner), (FIXTURE_RUNTIME, runtime)):
        if new != old:
            if not re.fullmatch(r"[a-z_][a-z0-9_]*", new):
                pytest.skip(f"role {new!r} needs quoting; the fixture names roles bare")
            text = re.sub(rf"\b{old}\b", new, text)
    return text


def load(database: ScratchDatabase) -> None:
    owner = database.owner
    env = {**os.environ, "PGPASSWORD": str(owner["PASSWORD"] or "")}
    arguments = [str(postgres_tool("psql")), "--no-psqlrc", "--quiet", "--dbname", database.name]
    arguments += ["--username", str(owner["USER"]), "--set", "ON_ERROR_STOP=1"]
    arguments += ["--single-transaction"]
    if owner["HOST"]:
        arguments += ["--host", str(owner["HOST"])]
    if owner["PORT"]:
        arguments += ["--port", str(owner["PORT"])]
    loaded = subprocess.run(
        arguments,
        input=fixture_sql(owner=str(owner["USER"]), runtime=runtime_role()),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr


def tables(conn) -> dict[str, list[str]]:
    """Every table (partitions, their parent and the owner's own tables included) and its
    columns."""
    found: dict[str, list[str]] = {}
    for schema, table, column in conn.execute(
        """
        SELECT n.nspname, c.relname, a.attname
          FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY(%s)
         ORDER BY n.nspname, c.relname, a.attnum
        """,
        [list(SCHEMAS)],
    ):
        found.setdefault(f"{schema}.{table}", []).append(column)
    return found


def rows(conn, layout: dict[str, list[str]]) -> Rows:
    """Every row of every table in `layout`, its columns as text (a multiset per table)."""
    read: Rows = {}
    for qualified, columns in layout.items():
        schema, table = qualified.split(".")
        query = sql.SQL("SELECT {} FROM {}.{}").format(
            sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in columns),
            sql.Identifier(schema),
            sql.Identifier(table),
        )
        read[qualified] = Counter(conn.execute(query).fetchall())
    return read


def sequences(conn) -> dict[str, int]:
    return dict(
        conn.execute(
            "SELECT schemaname || '.' || sequencename, coalesce(last_value, 0)"
            " FROM pg_sequences WHERE schemaname = ANY(%s)",
            [list(SCHEMAS)],
        ).fetchall()
    )


def expected_after(before: Rows, layout: dict[str, list[str]]) -> Rows:
    """What the migrations since 0c36419 may change: the moved models' content types."""
    expected = dict(before)
    columns = layout["public.django_content_type"]
    app, model = columns.index("app_label"), columns.index("model")
    moved = Counter()
    for row, count in before["public.django_content_type"].items():
        if (row[app], row[model]) in MOVED_CONTENT_TYPES:
            row = (*row[:app], "banking", *row[app + 1 :])
        moved[row] += count
    expected["public.django_content_type"] = moved
    return expected


def new_models(expected: Rows, after: Rows, layout) -> dict[str, tuple[int, set]]:
    """The content types of models added since (a new table's model gets one, and its
    permissions, which a group may be given), by id: which rows of those three tables may
    be new."""
    types = layout["public.django_content_type"]
    key = [types.index("app_label"), types.index("model")]
    known = {tuple(row[i] for i in key) for row in expected["public.django_content_type"]}
    new_ids = {
        row[types.index("id")]
        for row in after["public.django_content_type"]
        if tuple(row[i] for i in key) not in known
    }
    permissions = layout["public.auth_permission"]
    new_permissions = {
        row[permissions.index("id")]
        for row in after["public.auth_permission"]
        if row[permissions.index("content_type_id")] in new_ids
    }
    granted = layout["public.auth_group_permissions"]
    return {
        "public.django_content_type": (types.index("id"), new_ids),
        "public.auth_permission": (permissions.index("content_type_id"), new_ids),
        # A migration may give a group a permission on a model it adds.
        "public.auth_group_permissions": (granted.index("permission_id"), new_permissions),
    }


# Purposes a data migration since adds, with their first texts (consent 0013).
ADDED_PURPOSES = {"contact_email", "contact_phone", "contact_post"}


def added_purposes(after: Rows, layout) -> dict[str, tuple[int, set]]:
    """The purposes data migrations added since, and their versions: rows that may be new
    in those two tables (each new row must be one of them)."""
    purposes = layout["public.consent_purpose"]
    code, key = purposes.index("code"), purposes.index("id")
    ids = {row[key] for row in after["public.consent_purpose"] if row[code] in ADDED_PURPOSES}
    versions = layout["public.consent_purposeversion"]
    return {
        "public.consent_purpose": (code, ADDED_PURPOSES),
        "public.consent_purposeversion": (versions.index("purpose_id"), ids),
    }


def differences(
    expected: Rows,
    after: Rows,
    *,
    applied: set[tuple[str, str]],
    new_models: dict[str, tuple[int, set]] | None = None,
) -> list[str]:
    """Each table whose rows are not the expected ones, with what went and what came.
    Rows may only be added: to `django_migrations`, one per migration applied now; and, in
    `new_models` (table: (column, values)), the content types and permissions of models
    that did not exist before, groups given those permissions, and the purposes (with
    their texts) that data migrations added."""
    problems = []
    for table, wanted in expected.items():
        if table not in after:
            problems.append(f"{table}: the table is gone")
            continue
        gone, came = wanted - after[table], after[table] - wanted
        if table == "public.django_migrations":
            came = Counter({row: n for row, n in came.items() if (row[1], row[2]) not in applied})
        if new_models and table in new_models:
            column, values = new_models[table]
            came = Counter({row: n for row, n in came.items() if row[column] not in values})
        if gone or came:
            problems.append(
                f"{table}: {sum(gone.values())} row(s) lost or changed {sorted(gone)[:3]},"
                f" {sum(came.values())} row(s) new or changed {sorted(came)[:3]}"
            )
    return problems


def test_a_database_made_at_0c36419_migrates_with_every_row_kept(scratch):
    load(scratch)
    with scratch.connect() as conn:
        layout = tables(conn)
        before = rows(conn, layout)
        ids_before = sequences(conn)
    migrations = before["public.django_migrations"]
    applied_before = {(app, migration) for _, app, migration, _ in migrations}
    # The fixture holds what it says: rows in every table, partitions included.
    assert [table for table, found in before.items() if not found] == []
    assert len(layout) > 80

    migrated = scratch.python("manage.py", "migrate", "--no-input", "-v", "0")
    assert migrated.returncode == 0, migrated.stderr

    applied_now = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    applied_now -= applied_before
    assert ("banking", "0001_initial") in applied_now
    with scratch.connect() as conn:
        now = tables(conn)
        assert {t: [c for c in cs if c not in now.get(t, [])] for t, cs in layout.items()} == {
            t: [] for t in layout
        }, "tables or columns gone"
        after = rows(conn, layout)
        expected = expected_after(before, layout)
        problems = differences(
            expected,
            after,
            applied=applied_now,
            new_models={
                **new_models(expected, after, layout),
                **added_purposes(after, layout),
            },
        )
        assert not problems, "\n".join(problems)
        # No id is handed out twice: no sequence went back.
        ids_after = sequences(conn)
        assert [s for s, value in ids_before.items() if ids_after.get(s, -1) < value] == []
        # The app that held a customer's live refresh token is linked to them (api 0014).
        links = conn.execute(
            "SELECT customer.customer_number, app.name, link.scope, link.revoked_at"
            " FROM api_linkedapp AS link"
            " JOIN consent_customer AS customer ON customer.id = link.customer_id"
            " JOIN oauth2_provider_application AS app ON app.id = link.application_id"
        ).fetchall()
        assert links == [("100001", "Voorbeeldbank app", "consent:read consent:choose", None)]

        # And the comparison does name a changed row.
        conn.execute(
            "UPDATE consent_customer SET first_name = first_name || '!'"
            " WHERE id = (SELECT min(id) FROM consent_customer)"
        )
        customers = {"public.consent_customer": layout["public.consent_customer"]}
        changed = differences(
            {t: before[t] for t in customers}, rows(conn, customers), applied=set()
        )
        assert [problem.split(":")[0] for problem in changed] == ["public.consent_customer"]

"""What the runtime role may do in the database, as migration operations.

The web app, the commands and the workers connect as the runtime role, which owns
nothing: it has exactly the privileges granted here. The append-only guarantee rests on
privileges, which no session setting can switch off (unlike the `pgtrigger.Protect` row
triggers, which stay as defence in depth), and on a statement trigger that refuses
TRUNCATE to every role, the owner included.

The append-only tables, per app, are the operations in that app's migrations; each app
also names them on its AppConfig (`append_only`, `truncate_refused`,
`owner_deletes_only`), which is what the tests check the database against
(`tests/protections.py`). An app that gets an append-only table adds an `AppendOnly("Model")`
operation to its migration and the model's name to its AppConfig; this package names no
app's tables.

Every function in the database runs with a fixed `search_path` that names `pg_temp` last
(`SEARCH_PATH`): otherwise PostgreSQL searches the session's temporary tables first, and a
temporary table named like one of ours would be read instead of it, by the owner's
SECURITY DEFINER functions and by the triggers alike. The operations below create their
functions with it; `PinSearchPaths` gives it to every function the owner has, which a
migration runs again after anything that creates a function without it (pgtrigger's
`AddTrigger` re-creates its functions without one; a test names any function left so).
The runtime role may not create temporary tables at all (`RevokeTemporaryTables`): its
scratch tables are unlogged tables in `import_staging`, made and dropped in one
transaction.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

# What an app declares on its AppConfig, as tuples of model names:
PROTECTIONS = {
    # no UPDATE, DELETE or TRUNCATE for the runtime role, no TRUNCATE for anyone;
    "append_only": "append-only",
    # the runtime role may update these, but TRUNCATE is refused to everyone (emptying
    # the state would silently drop every customer's current choice);
    "truncate_refused": "no TRUNCATE",
    # no DELETE (or TRUNCATE) for the runtime role: the protected data of README,
    # *Retention and erasure*. Only owner SECURITY DEFINER functions remove rows, each
    # checking why in SQL (a period past on `retention_today()`, or an erasure request in
    # the ledger). For a partitioned table, every partition too.
    "owner_deletes_only": "deleted by the owner's functions only",
}


# Every function's search path: the catalogue, our schema, and the session's temporary
# schema last (named, so that PostgreSQL does not search it first).
SEARCH_PATH = "pg_catalog, public, pg_temp"

TRUNCATE_TRIGGER = "refuse_truncate"
# Import staging tables (infra.csvload.SqlCheckedImport) live here, not in `public`,
# where the runtime role may create nothing.
STAGING_SCHEMA = "import_staging"


def runtime_role(schema_editor: BaseDatabaseSchemaEditor) -> str:
    """The runtime role's name, from settings (DATABASE_URL, or the embedded default)."""
    settings_dict = schema_editor.connection.settings_dict
    return settings_dict.get("RUNTIME_USER") or settings_dict["USER"]


def refuse_if_runtime_is_current_user(schema_editor, role):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT current_user = %s", [role])
        (same,) = cursor.fetchone()
    if same:
        raise RuntimeError(
            f"migrate is running as the runtime role {role!r}; it must run as the owner"
            " (DATABASE_OWNER_URL)."
        )


class SqlOperation(migrations.operations.base.Operation):
    reduces_to_sql = True
    reversible = True

    def state_forwards(self, app_label, state):
        pass

    def forwards_sql(self, app_label, schema_editor, state) -> list[str]:
        raise NotImplementedError

    def backwards_sql(self, app_label, schema_editor, state) -> list[str]:
        raise NotImplementedError

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        for statement in self.forwards_sql(app_label, schema_editor, to_state):
            schema_editor.execute(statement, params=None)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        for statement in self.backwards_sql(app_label, schema_editor, from_state):
            schema_editor.execute(statement, params=None)


class GrantRuntimeRole(SqlOperation):
    """Read and write every table (now and later ones made by the owner), nothing else.

    No TRUNCATE anywhere, and `django_migrations` is read-only: the runtime role cannot
    pretend a migration ran.
    """

    def describe(self):
        return "Grant the runtime role SELECT, INSERT, UPDATE, DELETE on the owner's tables"

    def forwards_sql(self, app_label, schema_editor, state):
        role = runtime_role(schema_editor)
        refuse_if_runtime_is_current_user(schema_editor, role)
        q = schema_editor.quote_name(role)
        return [
            f"GRANT USAGE ON SCHEMA public TO {q}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {q}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {q}",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public"
            f" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {q}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {q}",
            f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON django_migrations FROM {q}",
            # Staging tables of imports: the runtime role makes and drops its own here.
            f"CREATE SCHEMA IF NOT EXISTS {STAGING_SCHEMA}",
            f"GRANT USAGE, CREATE ON SCHEMA {STAGING_SCHEMA} TO {q}",
        ]

    def backwards_sql(self, app_label, schema_editor, state):
        q = schema_editor.quote_name(runtime_role(schema_editor))
        return [
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {q}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {q}",
            f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {q}",
            f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {q}",
            f"DROP SCHEMA IF EXISTS {STAGING_SCHEMA} CASCADE",
        ]


class GrantTable(SqlOperation):
    """The runtime role reads and writes one table that a migration made in SQL, not from
    a model (the shared cache's): SELECT, INSERT, UPDATE, DELETE, as `GrantRuntimeRole`
    gives it on every other table, never TRUNCATE. Said where the table is made, not left
    to `GrantRuntimeRole`'s grants and default privileges, whichever migration runs first."""

    def __init__(self, table):
        self.table = table

    def describe(self):
        return f"Grant the runtime role SELECT, INSERT, UPDATE, DELETE on {self.table}"

    def forwards_sql(self, app_label, schema_editor, state):
        role = runtime_role(schema_editor)
        refuse_if_runtime_is_current_user(schema_editor, role)
        table, q = schema_editor.quote_name(self.table), schema_editor.quote_name(role)
        return [f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {q}"]

    def backwards_sql(self, app_label, schema_editor, state):
        table, q = (
            schema_editor.quote_name(self.table),
            schema_editor.quote_name(runtime_role(schema_editor)),
        )
        return [f"REVOKE ALL ON {table} FROM {q}"]


class RefuseTruncate(SqlOperation):
    """A statement trigger refusing TRUNCATE to every role; `pgtrigger.ignore` is not read."""

    def __init__(self, model_name):
        self.model_name = model_name

    def describe(self):
        return f"Refuse TRUNCATE on {self.model_name}"

    def table(self, app_label, schema_editor, state):
        model = state.apps.get_model(app_label, self.model_name)
        return schema_editor.quote_name(model._meta.db_table)

    def forwards_sql(self, app_label, schema_editor, state):
        table = self.table(app_label, schema_editor, state)
        return [
            f"""
            CREATE OR REPLACE FUNCTION {TRUNCATE_TRIGGER}() RETURNS trigger
            LANGUAGE plpgsql SET search_path = {SEARCH_PATH} AS $$
            BEGIN
                RAISE EXCEPTION 'TRUNCATE % refused: the table is append-only', TG_TABLE_NAME
                    USING ERRCODE = 'insufficient_privilege';
            END
            $$
            """,
            f"CREATE TRIGGER {TRUNCATE_TRIGGER} BEFORE TRUNCATE ON {table}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {TRUNCATE_TRIGGER}()",
        ]

    def backwards_sql(self, app_label, schema_editor, state):
        table = self.table(app_label, schema_editor, state)
        return [f"DROP TRIGGER IF EXISTS {TRUNCATE_TRIGGER} ON {table}"]


class AppendOnly(RefuseTruncate):
    """Rows are added, never changed or removed: the runtime role may only SELECT and INSERT."""

    # What the runtime role may no longer do, besides TRUNCATE.
    revoked: tuple[str, ...] = ("UPDATE", "DELETE")

    def describe(self):
        return f"Make {self.model_name} append-only for the runtime role"

    def forwards_sql(self, app_label, schema_editor, state):
        table = self.table(app_label, schema_editor, state)
        role = schema_editor.quote_name(runtime_role(schema_editor))
        return [
            f"REVOKE {', '.join(self.revoked)}, TRUNCATE ON {table} FROM {role}",
            *super().forwards_sql(app_label, schema_editor, state),
        ]

    def backwards_sql(self, app_label, schema_editor, state):
        table = self.table(app_label, schema_editor, state)
        role = schema_editor.quote_name(runtime_role(schema_editor))
        return [
            *super().backwards_sql(app_label, schema_editor, state),
            f"GRANT {', '.join(self.revoked)} ON {table} TO {role}",
        ]


class AllowIndexRebuild(SqlOperation):
    """Let the runtime role drop a table's secondary indexes for a bulk load and build them
    once afterwards (several times cheaper than row by row). Only an owner may drop an
    index, so the owner provides two SECURITY DEFINER functions for this one table:
    `suspend_indexes_<table>()` and `restore_indexes_<table>()`. Unique and constraint
    indexes are never touched, and the definitions are kept where the runtime role cannot
    write them. Both run in the caller's transaction: a failed load rolls back to the
    indexes it started with.
    """

    def __init__(self, model_name):
        self.model_name = model_name

    def describe(self):
        return f"Let the runtime role rebuild the indexes of {self.model_name}"

    def names(self, app_label, state):
        table = state.apps.get_model(app_label, self.model_name)._meta.db_table
        return table, f"suspend_indexes_{table}", f"restore_indexes_{table}"

    def forwards_sql(self, app_label, schema_editor, state):
        table, suspend, restore = self.names(app_label, state)
        role = schema_editor.quote_name(runtime_role(schema_editor))
        return [
            "CREATE TABLE IF NOT EXISTS suspended_index"
            " (table_name text NOT NULL, definition text NOT NULL)",
            f"REVOKE ALL ON suspended_index FROM {role}",
            f"""
            CREATE FUNCTION {suspend}() RETURNS void
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = {SEARCH_PATH} AS $$
            DECLARE idx record;
            BEGIN
                FOR idx IN
                    SELECT i.indexrelid::regclass::text AS name,
                           pg_get_indexdef(i.indexrelid) AS definition
                      FROM pg_index i
                     WHERE i.indrelid = 'public.{table}'::regclass
                       AND NOT i.indisunique AND NOT i.indisprimary
                       AND NOT EXISTS (SELECT FROM pg_constraint c
                                        WHERE c.conindid = i.indexrelid)
                LOOP
                    INSERT INTO public.suspended_index VALUES ('{table}', idx.definition);
                    EXECUTE 'DROP INDEX ' || idx.name;
                END LOOP;
            END
            $$
            """,
            f"""
            CREATE FUNCTION {restore}() RETURNS void
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = {SEARCH_PATH} AS $$
            DECLARE statement text;
            BEGIN
                FOR statement IN
                    DELETE FROM public.suspended_index WHERE table_name = '{table}'
                    RETURNING definition
                LOOP
                    EXECUTE statement;
                END LOOP;
            END
            $$
            """,
            f"REVOKE ALL ON FUNCTION {suspend}(), {restore}() FROM PUBLIC",
            f"GRANT EXECUTE ON FUNCTION {suspend}(), {restore}() TO {role}",
        ]

    def backwards_sql(self, app_label, schema_editor, state):
        _, suspend, restore = self.names(app_label, state)
        return [f"DROP FUNCTION IF EXISTS {suspend}()", f"DROP FUNCTION IF EXISTS {restore}()"]


class ForbidIndexRebuild(AllowIndexRebuild):
    """Take `AllowIndexRebuild` back: drop its two functions (reversed, makes them again)."""

    def describe(self):
        return f"Drop the index rebuild functions of {self.model_name}"

    def forwards_sql(self, app_label, schema_editor, state):
        return super().backwards_sql(app_label, schema_editor, state)

    def backwards_sql(self, app_label, schema_editor, state):
        return super().forwards_sql(app_label, schema_editor, state)


class MonthlyPartitions(SqlOperation):
    """Let the runtime role add monthly partitions to a table partitioned by RANGE on a
    timestamp column, and load whole months as fresh tables, without owning anything.

    Partitions are the calendar months of `time_zone`, named `<table>_yYYYYmMM`:
    `<table>_month(month date)` gives a month's name suffix and bounds, and
    `<table>_month_of(timestamptz)` the month of an instant. Only the owner may create,
    attach or drop a table, so the owner provides SECURITY DEFINER functions, all taking
    months (never names) and refusing to touch a month with rows:

    - `ensure_<table>_partition(month date) → text`: the month's partition, made if missing
      (as a table of its own and then attached, which takes only SHARE UPDATE EXCLUSIVE on
      the parent: readers are never blocked).
    - `prepare_<table>_load(months date[])`: an empty table per month, partitions of
      `import_staging.<table>_load`, which the runtime role may fill, read, VACUUM and
      ANALYZE.
    - `index_<table>_load(month date)`: builds the table's indexes on one loaded month.
    - `attach_<table>_load(month date)`: makes a loaded month the table's partition for
      that month; an empty partition made earlier gives way (that takes the parent's
      ACCESS EXCLUSIVE lock for a moment), one with rows never does. In the caller's
      transaction, so several months are attached all at once or not at all.
    - `discard_<table>_load()`: drops what is left of a load.
    - `analyze_<table>(months date[])`: fresh statistics of those months' partitions and
      of the table itself (`ANALYZE ONLY`: the planner's figures for the whole table,
      which autovacuum never gathers for a partitioned one), after an import. The
      runtime role may not ANALYZE the owner's tables itself (that is MAINTAIN, which
      would also let it REINDEX or LOCK them).

    A new month gets exactly the runtime role's privileges on the table itself
    (`<table>_grant_as_parent(regclass)`), so what the role may not do to the table (say,
    DELETE: `OwnerDeletesOnly`) it may not do to any month of it either. Functions are
    created or replaced: `RefreshMonthlyPartitions` makes them again as they are here.
    """

    def __init__(self, model_name, *, column, time_zone):
        self.model_name = model_name
        self.column = column
        self.time_zone = time_zone

    def describe(self):
        return f"Let the runtime role add and load monthly partitions of {self.model_name}"

    def deconstruct(self):
        return (
            self.__class__.__qualname__,
            [self.model_name],
            {"column": self.column, "time_zone": self.time_zone},
        )

    def functions(self, table):
        return {
            "month": f"{table}_month(date)",
            "month_of": f"{table}_month_of(timestamptz)",
            "indexes": f"{table}_clone_indexes(regclass, text)",
            "grants": f"{table}_grant_as_parent(regclass)",
            "ensure": f"ensure_{table}_partition(date)",
            "prepare": f"prepare_{table}_load(date[])",
            "index": f"index_{table}_load(date)",
            "attach": f"attach_{table}_load(date)",
            "discard": f"discard_{table}_load()",
            "analyze": f"analyze_{table}(date[])",
        }

    def forwards_sql(self, app_label, schema_editor, state):
        table = state.apps.get_model(app_label, self.model_name)._meta.db_table
        role = schema_editor.quote_name(runtime_role(schema_editor))
        column, tz, staging = self.column, self.time_zone.replace("'", "''"), STAGING_SCHEMA
        load = f"{staging}.{table}_load"
        f = self.functions(table)
        # Every function: fixed search_path, and bounds printed as ISO text in UTC so that
        # they read back as the same instants whatever the caller's settings.
        header = (
            f"LANGUAGE plpgsql SECURITY DEFINER SET search_path = {SEARCH_PATH}"
            " SET datestyle = 'ISO, YMD' SET timezone = 'UTC'"
        )
        return [
            f"""
            CREATE OR REPLACE FUNCTION {table}_month(month date, OUT suffix text,
                                                     OUT lower timestamptz, OUT upper timestamptz)
            LANGUAGE sql STABLE SET search_path = {SEARCH_PATH} AS $$
                SELECT to_char(m, '"y"YYYY"m"MM'), m::timestamp AT TIME ZONE '{tz}',
                       (m + interval '1 month')::timestamp AT TIME ZONE '{tz}'
                  FROM (SELECT date_trunc('month', month)::date AS m) AS first_day
            $$
            """,
            f"""
            CREATE OR REPLACE FUNCTION {table}_month_of(at timestamptz) RETURNS date
            LANGUAGE sql STABLE SET search_path = {SEARCH_PATH} AS $$
                SELECT date_trunc('month', at AT TIME ZONE '{tz}')::date
            $$
            """,
            # The parent's indexes on a new month, named like its other partitions' ones;
            # the primary key as a constraint, so that ATTACH adopts it instead of building.
            f"""
            CREATE OR REPLACE FUNCTION {table}_clone_indexes(target regclass, partition text)
            RETURNS void
            {header} AS $$
            DECLARE idx record; name text;
            BEGIN
                FOR idx IN
                    SELECT c.relname, i.indisprimary, pg_get_indexdef(i.indexrelid) AS definition
                      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                     WHERE i.indrelid = 'public.{table}'::regclass
                LOOP
                    name := partition || CASE WHEN idx.indisprimary THEN '_pkey'
                                              ELSE '_' || idx.relname END;
                    EXECUTE regexp_replace(idx.definition,
                        '^(CREATE (UNIQUE )?INDEX) \\S+ ON ONLY \\S+ ',
                        format('\\1 %I ON %s ', name, target));
                    IF idx.indisprimary THEN
                        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I'
                                       ' PRIMARY KEY USING INDEX %I', target, name, name);
                    END IF;
                END LOOP;
            END
            $$
            """,
            # The runtime role's privileges on the table, and nothing else, on a new month
            # (which the owner's default privileges would otherwise give every DML).
            f"""
            CREATE OR REPLACE FUNCTION {table}_grant_as_parent(target regclass) RETURNS void
            {header} AS $$
            DECLARE privileges text;
            BEGIN
                EXECUTE format('REVOKE ALL ON %s FROM {role}', target);
                SELECT string_agg(DISTINCT a.privilege_type, ', ') INTO privileges
                  FROM pg_class c, aclexplode(c.relacl) a
                 WHERE c.oid = 'public.{table}'::regclass AND a.grantee = '{role}'::regrole;
                IF privileges IS NOT NULL THEN
                    EXECUTE format('GRANT %s ON %s TO {role}', privileges, target);
                END IF;
            END
            $$
            """,
            f"""
            CREATE OR REPLACE FUNCTION ensure_{table}_partition(month date) RETURNS text
            {header} AS $$
            DECLARE m record; name text;
            BEGIN
                SELECT * INTO m FROM public.{table}_month(month);
                name := '{table}_' || m.suffix;
                -- One at a time (SHARE UPDATE EXCLUSIVE conflicts with itself; readers pass).
                LOCK TABLE public.{table} IN SHARE UPDATE EXCLUSIVE MODE;
                IF to_regclass(format('public.%I', name)) IS NULL THEN
                    EXECUTE format('CREATE TABLE public.%I (LIKE public.{table}'
                                   ' INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
                    PERFORM public.{table}_clone_indexes(format('public.%I', name)::regclass, name);
                    PERFORM public.{table}_grant_as_parent(format('public.%I', name)::regclass);
                    EXECUTE format('ALTER TABLE public.{table} ATTACH PARTITION public.%I'
                                   ' FOR VALUES FROM (%L) TO (%L)', name, m.lower, m.upper);
                END IF;
                RETURN name;
            END
            $$
            """,
            f"""
            CREATE OR REPLACE FUNCTION prepare_{table}_load(months date[]) RETURNS void
            {header} AS $$
            DECLARE month date; m record; name text;
            BEGIN
                DROP TABLE IF EXISTS {load};
                CREATE TABLE {load} (LIKE public.{table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
                    PARTITION BY RANGE ({column});
                FOREACH month IN ARRAY months LOOP
                    SELECT * INTO m FROM public.{table}_month(month);
                    name := '{table}_load_' || m.suffix;
                    EXECUTE format('CREATE TABLE {staging}.%I PARTITION OF {load}'
                                   ' FOR VALUES FROM (%L) TO (%L)', name, m.lower, m.upper);
                    -- Kept when detached: lets ATTACH skip scanning the month.
                    EXECUTE format('ALTER TABLE {staging}.%I ADD CONSTRAINT in_month'
                                   ' CHECK ({column} >= %L AND {column} < %L)',
                                   name, m.lower, m.upper);
                    EXECUTE format('GRANT SELECT, MAINTAIN ON {staging}.%I TO {role}', name);
                END LOOP;
                GRANT SELECT, INSERT, DELETE ON {load} TO {role};
            END
            $$
            """,
            f"""
            CREATE OR REPLACE FUNCTION index_{table}_load(month date) RETURNS void
            {header} AS $$
            DECLARE m record;
            BEGIN
                SELECT * INTO m FROM public.{table}_month(month);
                PERFORM public.{table}_clone_indexes(
                    format('{staging}.%I', '{table}_load_' || m.suffix)::regclass,
                    '{table}_' || m.suffix);
            END
            $$
            """,
            f"""
            CREATE OR REPLACE FUNCTION attach_{table}_load(month date) RETURNS void
            {header} AS $$
            DECLARE m record; name text; loaded text; has_rows boolean;
            BEGIN
                SELECT * INTO m FROM public.{table}_month(month);
                name := '{table}_' || m.suffix;
                loaded := '{table}_load_' || m.suffix;
                IF to_regclass(format('{staging}.%I', loaded)) IS NULL THEN
                    RAISE EXCEPTION 'no loaded month %', m.suffix;
                END IF;
                IF to_regclass(format('public.%I', name)) IS NOT NULL THEN
                    LOCK TABLE public.{table} IN ACCESS EXCLUSIVE MODE;
                    EXECUTE format('SELECT EXISTS (SELECT FROM public.%I)', name) INTO has_rows;
                    IF has_rows THEN
                        RAISE EXCEPTION 'partition % has rows; load into it instead', name
                            USING ERRCODE = 'object_not_in_prerequisite_state';
                    END IF;
                    EXECUTE format('DROP TABLE public.%I', name);
                END IF;
                EXECUTE format('ALTER TABLE {load} DETACH PARTITION {staging}.%I', loaded);
                EXECUTE format('ALTER TABLE {staging}.%I SET SCHEMA public', loaded);
                EXECUTE format('ALTER TABLE public.%I RENAME TO %I', loaded, name);
                PERFORM public.{table}_grant_as_parent(format('public.%I', name)::regclass);
                EXECUTE format('ALTER TABLE public.{table} ATTACH PARTITION public.%I'
                               ' FOR VALUES FROM (%L) TO (%L)', name, m.lower, m.upper);
                EXECUTE format('ALTER TABLE public.%I DROP CONSTRAINT in_month', name);
            END
            $$
            """,
            f"""
            CREATE OR REPLACE FUNCTION discard_{table}_load() RETURNS void
            {header} AS $$
            BEGIN
                DROP TABLE IF EXISTS {load};
            END
            $$
            """,
            f"""
            CREATE OR REPLACE FUNCTION analyze_{table}(months date[]) RETURNS void
            {header} AS $$
            DECLARE month date; name text;
            BEGIN
                FOREACH month IN ARRAY months LOOP
                    name := '{table}_' || (SELECT suffix FROM public.{table}_month(month));
                    IF to_regclass(format('public.%I', name)) IS NOT NULL THEN
                        EXECUTE format('ANALYZE public.%I', name);
                    END IF;
                END LOOP;
                ANALYZE ONLY public.{table};
            END
            $$
            """,
            "REVOKE ALL ON FUNCTION " + ", ".join(f.values()) + " FROM PUBLIC",
            f"GRANT EXECUTE ON FUNCTION {f['month']}, {f['month_of']}, {f['ensure']},"
            f" {f['prepare']}, {f['index']}, {f['attach']}, {f['discard']}, {f['analyze']}"
            f" TO {role}",
        ]

    def backwards_sql(self, app_label, schema_editor, state):
        table = state.apps.get_model(app_label, self.model_name)._meta.db_table
        return [
            f"DROP TABLE IF EXISTS {STAGING_SCHEMA}.{table}_load",
            *(f"DROP FUNCTION IF EXISTS {f}" for f in reversed(self.functions(table).values())),
        ]


# --- Retention: the runtime role removes what is past its period ------------------
# Tables the runtime role may only read: the owner's functions write them.
OWNER_WRITES = ("ledger.LedgerTombstone",)
# The time zone in which retention counts days (settings.TIME_ZONE).
RETENTION_TIME_ZONE = "Europe/Amsterdam"


class OwnerWritesOnly(AppendOnly):
    """The runtime role may read the table, never write it: only an owner's SECURITY
    DEFINER function (which checks its own conditions) adds rows."""

    revoked = ("INSERT", "UPDATE", "DELETE")

    def describe(self):
        return f"Only the owner's functions write {self.model_name}"


class RetentionClock(SqlOperation):
    """`retention_today()`: the date every retention function counts with. It is the
    database server's date in Amsterdam, which the runtime role cannot move (unlike the
    app's clock, or any session setting). Only the owner can set another date, in the
    table `retention_clock` (tests, and rehearsing a run on a copy); in production it
    stays empty.

    Two helpers for the owner's functions only (not granted to anyone): switch the
    pgtrigger row triggers of some tables off for the rest of the function's work, and
    back on. (`pgtrigger.ignore` is what they read; the function sets it transaction-
    locally and restores what was there.)
    """

    def describe(self):
        return "The retention clock and the owner's helpers for retention functions"

    def forwards_sql(self, app_label, schema_editor, state):
        role = schema_editor.quote_name(runtime_role(schema_editor))
        return [
            "CREATE TABLE retention_clock (today date NOT NULL)",
            f"REVOKE ALL ON retention_clock FROM {role}",
            f"""
            CREATE FUNCTION retention_today() RETURNS date
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {SEARCH_PATH} AS $$
                SELECT coalesce((SELECT max(today) FROM public.retention_clock),
                                (now() AT TIME ZONE '{RETENTION_TIME_ZONE}')::date)
            $$
            """,
            "REVOKE ALL ON FUNCTION retention_today() FROM PUBLIC",
            f"GRANT EXECUTE ON FUNCTION retention_today() TO {role}",
            rf"""
            CREATE FUNCTION retention_ignore_row_triggers(p_tables regclass[]) RETURNS text
            LANGUAGE plpgsql SET search_path = {SEARCH_PATH} AS $$
            DECLARE
                v_previous text := coalesce(current_setting('pgtrigger.ignore', true), '');
                v_names text[];
            BEGIN
                SELECT array_agg(tgname::text) INTO v_names FROM pg_trigger
                 WHERE tgrelid = ANY(p_tables) AND tgname LIKE 'pgtrigger\_%'
                   AND NOT tgisinternal;
                PERFORM set_config('pgtrigger.ignore', coalesce(v_names, '{{}}')::text, true);
                RETURN v_previous;
            END $$
            """,
            f"""
            CREATE FUNCTION retention_restore_row_triggers(p_previous text) RETURNS void
            LANGUAGE sql SET search_path = {SEARCH_PATH} AS $$
                SELECT set_config('pgtrigger.ignore', p_previous, true)
            $$
            """,
            "REVOKE ALL ON FUNCTION retention_ignore_row_triggers(regclass[]) FROM PUBLIC",
            "REVOKE ALL ON FUNCTION retention_restore_row_triggers(text) FROM PUBLIC",
        ]

    def backwards_sql(self, app_label, schema_editor, state):
        return [
            "DROP FUNCTION IF EXISTS retention_restore_row_triggers(text)",
            "DROP FUNCTION IF EXISTS retention_ignore_row_triggers(regclass[])",
            "DROP FUNCTION IF EXISTS retention_today()",
            "DROP TABLE IF EXISTS retention_clock",
        ]


class OwnerFunction(SqlOperation):
    """One narrow privileged thing the runtime role may ask the owner to do, in the
    caller's transaction: `CREATE FUNCTION name(arguments) … SECURITY DEFINER`, callable
    by the runtime role only. `body` must check its own conditions again (its arguments
    come from whoever holds the runtime role), and names tables with their schema
    (`public.x`)."""

    def __init__(self, name: str, arguments: str, returns: str, body: str):
        self.name, self.arguments, self.returns, self.body = name, arguments, returns, body

    def describe(self):
        return f"Owner function {self.name}() for the runtime role"

    @property
    def signature(self) -> str:
        types = [argument.split()[-1] for argument in self.arguments.split(",") if argument]
        return f"{self.name}({', '.join(types)})"

    def forwards_sql(self, app_label, schema_editor, state):
        role = schema_editor.quote_name(runtime_role(schema_editor))
        return [
            f"""
            CREATE FUNCTION {self.name}({self.arguments}) RETURNS {self.returns}
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = {SEARCH_PATH} AS $$
            {self.body}
            $$
            """,
            f"REVOKE ALL ON FUNCTION {self.signature} FROM PUBLIC",
            f"GRANT EXECUTE ON FUNCTION {self.signature} TO {role}",
        ]

    def backwards_sql(self, app_label, schema_editor, state):
        return [f"DROP FUNCTION IF EXISTS {self.signature}"]


# --- Hardening (shadowing, deletes): one operation each, run again when needed --------------
class PinSearchPaths(SqlOperation):
    """Every function in `public` that the owner owns (the one running `migrate`) gets
    `SET search_path = SEARCH_PATH`: trigger functions too, pgtrigger's included, and
    whatever was created without one. Run it (again) at the end of any migration that
    creates or replaces a function without the clause, e.g. a pgtrigger `AddTrigger`.
    Reversed, it changes nothing: a pinned search path is never less safe."""

    def describe(self):
        return "Pin the search path of every function the owner has"

    def forwards_sql(self, app_label, schema_editor, state):
        return [PIN_SEARCH_PATHS]

    def backwards_sql(self, app_label, schema_editor, state):
        return []


# Also run by `migrate` after the last migration, whatever it created: no function is
# left with a search path a temporary table could get into.
PIN_SEARCH_PATHS = f"""
            DO $$
            DECLARE f record;
            BEGIN
                FOR f IN
                    SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS arguments
                      FROM pg_catalog.pg_proc p
                     WHERE p.pronamespace = 'public'::regnamespace
                       AND p.proowner = (SELECT oid FROM pg_catalog.pg_roles
                                          WHERE rolname = current_user)
                       AND p.prokind IN ('f', 'p')
                LOOP
                    EXECUTE format('ALTER FUNCTION public.%I(%s) SET search_path = {SEARCH_PATH}',
                                   f.proname, f.arguments);
                END LOOP;
            END
            $$
            """


class RevokeTemporaryTables(SqlOperation):
    """Nobody but the owner may create temporary tables in this database (PostgreSQL lets
    every role, through PUBLIC). A temporary table could shadow ours wherever a search
    path does not name `pg_temp` last; the runtime role's scratch tables are unlogged
    tables in `STAGING_SCHEMA` instead, created and dropped in one transaction."""

    def describe(self):
        return "Only the owner may create temporary tables"

    def forwards_sql(self, app_label, schema_editor, state):
        role = runtime_role(schema_editor).replace("'", "''")
        return [
            f"""
            DO $$
            BEGIN
                EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
                EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM %I', current_database(),
                               '{role}');
                EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO %I', current_database(),
                               current_user);
            END
            $$
            """
        ]

    def backwards_sql(self, app_label, schema_editor, state):
        return [
            """
            DO $$
            BEGIN
                EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO PUBLIC', current_database());
            END
            $$
            """
        ]


class OwnerDeletesOnly(SqlOperation):
    """The runtime role may read, add and change rows, never DELETE or TRUNCATE them, on the
    table and on each of its partitions (monthly partitions made later get the table's
    privileges: `MonthlyPartitions`). Rows go only through an owner function that checks
    why (`OwnerFunction`). `model_name` may be an automatic many-to-many table
    (`"Offer_relied_on"`)."""

    def __init__(self, model_name):
        self.model_name = model_name

    def describe(self):
        return f"Only the owner's functions delete from {self.model_name}"

    def statements(self, app_label, schema_editor, state, verb):
        table = state.apps.get_model(app_label, self.model_name)._meta.db_table
        role = schema_editor.quote_name(runtime_role(schema_editor))
        privileges = "DELETE, TRUNCATE" if verb == "REVOKE" else "DELETE"
        direction = "FROM" if verb == "REVOKE" else "TO"
        return [
            f"""
            DO $$
            DECLARE t regclass;
            BEGIN
                FOR t IN SELECT 'public.{table}'::regclass
                         UNION ALL
                         SELECT inhrelid::regclass FROM pg_catalog.pg_inherits
                          WHERE inhparent = 'public.{table}'::regclass
                LOOP
                    EXECUTE format('{verb} {privileges} ON %s {direction} {role}', t);
                END LOOP;
            END
            $$
            """
        ]

    def forwards_sql(self, app_label, schema_editor, state):
        return self.statements(app_label, schema_editor, state, "REVOKE")

    def backwards_sql(self, app_label, schema_editor, state):
        return self.statements(app_label, schema_editor, state, "GRANT")


class RefreshMonthlyPartitions(MonthlyPartitions):
    """`MonthlyPartitions`' functions made again as they are now (a migration that changed
    them); reversed, it leaves them as they are."""

    def describe(self):
        return f"Make the monthly partition functions of {self.model_name} again"

    def backwards_sql(self, app_label, schema_editor, state):
        return []

"""Importing banking data (README, Commands): accounts, holdings, transactions.

Every field is checked in SQL on the all-text staging table (see
`infra.csvload.SqlCheckedImport`), so ten million transactions never pass through
Python one by one. Each check returns (line, reason) for the rows that break it.

Transactions are partitioned by booking month (`offers.models.Transaction`). A file of
transactions is imported in one of two ways with the same outcome: all or nothing, keyed
(a known transaction_id with the same data is left out, with other data it is an error),
every bad row named with its line. Two imports of transactions never overlap (an
advisory lock).

- **In one transaction**: a file under `BULK_LOAD_BYTES`, or any file imported inside
  the caller's transaction. COPY into staging, every check, the partitions of its months
  made where missing, one INSERT … SELECT that PostgreSQL routes to the months.
- **A bulk load**, on `LOAD_WORKERS` connections, published in one transaction at the end:
  1. the file is cut at a line end and each part is COPYed by its own connection into
     its own staging table; a record per chunk is sampled for the months to expect;
  2. each connection casts its part and inserts it into `import_staging.
     offers_transaction_load`, partitioned by month like the real table but no part of
     it, so nobody reads these rows yet (a row in a month not expected fails the insert,
     and the load starts again with the months of every row). A row that breaks a rule
     the table enforces itself (a type, a length, a constraint) fails the insert; one
     that breaks another rule is left out. A failure, or a count that does not add up,
     means a bad file, and only then is every check run, to name the lines;
  3. each loaded month is vacuumed, analysed and given the table's indexes, built once
     on the whole month (several times cheaper than row by row; the key's index also
     finds a row given twice): two months at a time, one per connection;
  4. ids across months, read from those indexes: the same id twice in the file is an
     error; an id stored before is compared with the stored row (in whichever month) and
     left out, or is an error;
  5. one transaction publishes: each month without rows so far is ATTACHed as the
     month's partition (an empty partition made earlier gives way), a month that had
     rows gets the new ones by INSERT … SELECT. Until it commits no reader sees a row of
     the file; any failure drops the load tables, and the next import cleans up after
     one that died.

  The parts of step 2 are cut by position in the file, not by month: each connection
  then reads its staging table once, where splitting by month first takes one more pass
  over the file (finding its months alone cost about a tenth of the whole import).
  Readers (the engine) are never blocked, except for a moment at the end when an empty
  partition gives way (DROP takes the table's ACCESS EXCLUSIVE lock).
"""

import csv
import functools
import os
import re

from django.db import DatabaseError, IntegrityError, connection, transaction

from consent.models import Customer
from infra.csvload import (
    ImportFailed,
    RowError,
    SqlCheckedImport,
    duplicates_sql,
    on_own_connections,
)
from infra.dbroles import STAGING_SCHEMA
from infra.progress import Progress

from .countries import ISO_COUNTRIES
from .models import Account, AccountKind, Holding, Product, Transaction

# From this size on (about 600,000 transactions) a file is loaded in parallel as fresh
# month tables; smaller ones go in one transaction.
BULK_LOAD_BYTES = 64 * 1024 * 1024
LOAD_WORKERS = 2
IMPORT_LOCK = 4_250_712  # advisory lock: one import of transactions at a time
DECIMAL_AMOUNT = r"^-?[0-9]{1,12}(\.[0-9]{1,2})?$"


def has_utc_offset(column: str) -> str:
    """Ends in Z, ±HH, ±HHMM or ±HH:MM. By LIKE, several times cheaper per row than a
    regular expression (an import checks ten million of these)."""
    endings = ("Z", "+_____", "-_____", "+____", "-____", "+__", "-__")
    return "(" + " OR ".join(f"{column} LIKE '%{ending}'" for ending in endings) + ")"


def iban_shape(column: str) -> str:
    """Two letters, two digits, 11 to 30 letters or digits (ISO 13616), that is
    `^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$`, checked as a length and a pattern without counted
    repeats, which is several times cheaper per row."""
    return (
        f"(octet_length({column}) BETWEEN 15 AND 34"
        f" AND {column} ~ '^[A-Z][A-Z][0-9][0-9][A-Z0-9]+$')"
    )


def sql_text(value: str) -> str:
    """A SQL string literal, for the fixed patterns and code lists above (never input)."""
    return "'" + value.replace("'", "''") + "'"


def sql_list(values) -> str:
    return "(" + ", ".join(sql_text(v) for v in sorted(values)) + ")"


def iban_checksum_ok(column: str) -> str:
    """ISO 13616 mod-97 check: move the first four characters to the end, letters to
    numbers (A=10 … Z=35), and the number must leave 1 when divided by 97."""
    return f"""(
        SELECT string_agg(
                   CASE WHEN ch BETWEEN '0' AND '9' THEN ch ELSE (ascii(ch) - 55)::text END,
                   '' ORDER BY pos)::numeric % 97 = 1
          FROM regexp_split_to_table(substr({column}, 5) || substr({column}, 1, 4), '')
               WITH ORDINALITY AS c(ch, pos))"""


def errors_query(staging: str, joins: str, checks: list[tuple[str, str]]) -> str:
    """One pass over the staging table: rows failing any check, once per failed check.

    `checks` are (condition that must hold, SQL expression for the reason). A good row
    costs one evaluation of the AND (PostgreSQL applies it below the lateral join), so
    only bad rows are expanded into their reasons.
    """
    good = " AND ".join(f"coalesce(({condition}), false)" for condition, _ in checks)
    reasons = ",\n".join(
        f"(coalesce(({condition}), false), {reason})" for condition, reason in checks
    )
    return f"""
        SELECT s.line, r.reason
          FROM {staging} s {joins}
         CROSS JOIN LATERAL (VALUES {reasons}) AS r(ok, reason)
         WHERE NOT ({good}) AND NOT r.ok
         ORDER BY s.line
    """


def required_text(column: str, max_length: int) -> tuple[str, str]:
    return (
        f"length(btrim(s.{column})) BETWEEN 1 AND {max_length}",
        f"CASE WHEN s.{column} IS NULL OR btrim(s.{column}) = '' THEN '{column} is missing'"
        f" ELSE '{column} is longer than {max_length} characters' END",
    )


def optional_text(column: str, max_length: int) -> tuple[str, str]:
    return (
        f"s.{column} IS NULL OR length(s.{column}) <= {max_length}",
        f"'{column} is longer than {max_length} characters'",
    )


def decimal_field(column: str) -> tuple[str, str]:
    # Up to 12 characters no digit count can be exceeded, and the pattern without counted
    # repeats is about twice as cheap; the full pattern only for longer values.
    return (
        f"(length(s.{column}) <= 12 AND s.{column} ~ '^-?[0-9]+(?:\\.[0-9][0-9]?)?$')"
        f" OR s.{column} ~ {sql_text(DECIMAL_AMOUNT)}",
        f"'{column} ' || coalesce(quote_literal(s.{column}), 'missing')"
        f" || ' is not a decimal like -1234.56'",
    )


def tested(check: tuple[str, str]) -> tuple[str, str, str]:
    """A check that a bulk load tests as it inserts (see `TransactionImport.checks`)."""
    return (*check, check[0])


def refused(check: tuple[str, str]) -> tuple[str, str, None]:
    """A check that the table enforces itself: a bulk load leaves it to the insert."""
    return (*check, None)


def currency_field() -> tuple[str, str]:
    # EUR first: OR stops there for nearly every row.
    return (
        "s.currency = 'EUR' OR s.currency ~ '^[A-Z]{3}$'",
        "'currency ' || coalesce(quote_literal(s.currency), 'missing')"
        " || ' is not a three-letter code like EUR'",
    )


class AccountImport(SqlCheckedImport):
    columns = ("iban", "customer_number", "kind", "balance", "currency")
    key = ("iban",)

    def check_sql(self):
        account, customer = Account._meta.db_table, Customer._meta.db_table
        yield from self._duplicates_sql()
        yield errors_query(
            self.staging,
            f"LEFT JOIN {customer} c ON c.customer_number = s.customer_number"
            f" LEFT JOIN (SELECT iban, customer_id AS owner_id FROM {account}) a"
            " ON a.iban = s.iban",
            [
                (
                    iban_shape("s.iban"),
                    "'iban ' || coalesce(quote_literal(s.iban), 'missing')"
                    " || ' is not an IBAN like NL91ABNA0417164300'",
                ),
                (
                    f"NOT {iban_shape('s.iban')} OR {iban_checksum_ok('s.iban')}",
                    "'iban ' || s.iban || ' has a wrong check digit'",
                ),
                (
                    "c.id IS NOT NULL",
                    "'unknown customer_number ' || coalesce(quote_literal(s.customer_number),"
                    " '(missing)')",
                ),
                (
                    f"s.kind IN {sql_list(AccountKind.values)}",
                    "'kind ' || coalesce(quote_literal(s.kind), 'missing') || ' must be one of: "
                    + ", ".join(AccountKind.values)
                    + "'",
                ),
                decimal_field("balance"),
                currency_field(),
                (
                    "a.owner_id IS NULL OR c.id IS NULL OR a.owner_id = c.id",
                    "'iban ' || s.iban || ' belongs to another customer'",
                ),
            ],
        )

    def _duplicates_sql(self):
        yield duplicates_sql(self.staging, ("iban",))

    def merge(self, cursor):
        account, customer = Account._meta.db_table, Customer._meta.db_table
        cursor.execute(f"SELECT count(*) FROM {self.staging}")
        (total,) = cursor.fetchone()
        cursor.execute(f"SELECT count(*) FROM {self.staging} s JOIN {account} a USING (iban)")
        (existing,) = cursor.fetchone()
        cursor.execute(
            f"""
            INSERT INTO {account} (iban, customer_id, kind, balance, currency)
            SELECT s.iban, c.id, s.kind, s.balance::numeric, s.currency
              FROM {self.staging} s JOIN {customer} c USING (customer_number)
            ON CONFLICT (iban) DO UPDATE
               SET kind = EXCLUDED.kind, balance = EXCLUDED.balance,
                   currency = EXCLUDED.currency
             WHERE ({account}.kind, {account}.balance, {account}.currency)
                   IS DISTINCT FROM (EXCLUDED.kind, EXCLUDED.balance, EXCLUDED.currency)
            """
        )
        written = cursor.rowcount
        created = total - existing
        return {
            "created": created,
            "updated": written - created,
            "unchanged": existing - (written - created),
        }


class HoldingImport(SqlCheckedImport):
    """Adds holdings; a holding missing from a later file is not removed (files add)."""

    columns = ("customer_number", "product_code")
    key = ("customer_number", "product_code")

    def check_sql(self):
        customer, product = Customer._meta.db_table, Product._meta.db_table
        yield duplicates_sql(self.staging, self.key)
        yield errors_query(
            self.staging,
            f"LEFT JOIN {customer} c ON c.customer_number = s.customer_number"
            f" LEFT JOIN {product} p ON p.code = s.product_code",
            [
                (
                    "c.id IS NOT NULL",
                    "'unknown customer_number ' || coalesce(quote_literal(s.customer_number),"
                    " '(missing)')",
                ),
                (
                    "p.id IS NOT NULL",
                    "'unknown product_code ' || coalesce(quote_literal(s.product_code),"
                    " '(missing)')",
                ),
            ],
        )

    def merge(self, cursor):
        holding, customer, product = (
            Holding._meta.db_table,
            Customer._meta.db_table,
            Product._meta.db_table,
        )
        cursor.execute(
            f"""
            INSERT INTO {holding} (customer_id, product_id)
            SELECT c.id, p.id
              FROM {self.staging} s
              JOIN {customer} c USING (customer_number)
              JOIN {product} p ON p.code = s.product_code
            ON CONFLICT (customer_id, product_id) DO NOTHING
            """
        )
        created = cursor.rowcount
        cursor.execute(f"SELECT count(*) FROM {self.staging}")
        (total,) = cursor.fetchone()
        return {"created": created, "unchanged": total - created}


class TransactionImport(SqlCheckedImport):
    """Transactions are facts: a known transaction_id is skipped if its data is the same,
    and an error if it differs (a bank does not rewrite a booked payment)."""

    columns = (
        "transaction_id",
        "iban",
        "booked_at",
        "amount",
        "currency",
        "counterparty_name",
        "counterparty_iban",
        "mcc",
        "country",
        "description",
    )
    key = ("transaction_id",)
    table = Transaction._meta.db_table
    load = f"{STAGING_SCHEMA}.{table}_load"
    values = """
        s.transaction_id, a.id AS account_id, s.booked_at::timestamptz AS booked_at,
        s.amount::numeric(14, 2) AS amount, s.currency,
        coalesce(s.counterparty_name, '') AS counterparty_name,
        coalesce(s.counterparty_iban, '') AS counterparty_iban,
        s.mcc, s.country, coalesce(s.description, '') AS description
    """
    stored = (
        "transaction_id, account_id, booked_at, amount, currency, counterparty_name,"
        " counterparty_iban, mcc, country, description"
    )

    def checks(self) -> list[tuple[str, str, str | None]]:
        """(condition that must hold, reason, what a bulk load still tests row by row).
        The last is None where inserting into the table refuses such a row by itself (a
        failing cast, a column's type or length, a constraint; a row with no account is
        left out by the join), or a cheaper condition where a cast does part of the work."""
        booked_at = (
            "'booked_at ' || coalesce(quote_literal(s.booked_at), 'missing')"
            " || ' is not a time like 2026-11-02T14:05:00+01:00'"
        )
        booked_at_shape = (
            f"s.booked_at ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}[T ]'"
            f" AND {has_utc_offset('s.booked_at')}"
        )
        return [
            (
                *required_text("transaction_id", 64),
                # Missing and too long the table refuses; a blank one is all spaces.
                "s.transaction_id <> '' AND (s.transaction_id NOT LIKE ' %'"
                " OR btrim(s.transaction_id) <> '')",
            ),
            (
                "a.id IS NOT NULL",
                f"CASE WHEN {iban_shape('s.iban')}"
                " THEN 'unknown iban ' || s.iban"
                " ELSE 'iban ' || coalesce(quote_literal(s.iban), 'missing')"
                " || ' is not an IBAN like NL91ABNA0417164300' END",
                None,
            ),
            (
                f"pg_input_is_valid(s.booked_at, 'timestamptz') AND {booked_at_shape}",
                booked_at,
                booked_at_shape,
            ),
            tested(decimal_field("amount")),
            refused(currency_field()),
            refused(optional_text("counterparty_name", 200)),
            tested(
                (
                    f"s.counterparty_iban IS NULL OR {iban_shape('s.counterparty_iban')}",
                    "'counterparty_iban ' || quote_literal(s.counterparty_iban)"
                    " || ' is not an IBAN'",
                )
            ),
            refused(
                (
                    "s.mcc IS NULL OR s.mcc ~ '^[0-9]{4}$'",
                    "'mcc ' || quote_literal(s.mcc) || ' is not a four-digit merchant"
                    " category code'",
                )
            ),
            tested(
                (
                    f"s.country IN {sql_list(ISO_COUNTRIES)}",
                    "'country ' || coalesce(quote_literal(s.country), 'missing')"
                    " || ' is not an ISO 3166-1 alpha-2 code'",
                )
            ),
            refused(optional_text("description", 500)),
        ]

    def check_sql(self):
        # The key includes booked_at (one per month), so duplicates are looked for here.
        yield duplicates_sql(self.staging, ("transaction_id",))
        yield errors_query(
            self.staging,
            f"LEFT JOIN {Account._meta.db_table} a ON a.iban = s.iban",
            [(condition, reason) for condition, reason, _ in self.checks()],
        )

    # --- In one transaction ---------------------------------------------------------------
    def run(self, path, *, progress_stream=None):
        self.months_written: list[str] = []
        if connection.in_atomic_block:
            # Not committed yet: autovacuum gathers the statistics once the caller commits.
            return super().run(path, progress_stream=progress_stream)
        if os.path.getsize(path) < BULK_LOAD_BYTES:
            result = super().run(path, progress_stream=progress_stream)
            if result["created"]:
                self._analyze(self.months_written)
            return result
        return self._bulk_load(path, Progress.of_file(path, progress_stream), progress_stream)

    def _analyze(self, months):
        """Fresh statistics for the months that got rows and for the whole table, once the
        rows are there (autovacuum would get to the months later, and never to the
        partitioned table itself): the next engine run is planned from what it reads,
        not from the figures of before the import."""
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT analyze_{self.table}(%s::date[])", [sorted(months)])

    def merge(self, cursor):
        account, txn = Account._meta.db_table, self.table
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK])
        # Writers wait until this commits; readers (the engine) are not blocked.
        cursor.execute(f"LOCK TABLE {txn} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(
            f"""
            SELECT s.line, 'transaction_id ' || s.transaction_id
                   || ' was imported before with different data'
              FROM (SELECT s.line, {self.values} FROM {self.staging} s
                      JOIN {account} a ON a.iban = s.iban
                     WHERE EXISTS (SELECT FROM {txn} t
                                    WHERE t.transaction_id = s.transaction_id)) s
              JOIN {txn} t USING (transaction_id)
             WHERE ({_prefixed("t", self.stored)}) IS DISTINCT FROM ({_prefixed("s", self.stored)})
            """
        )
        errors = [RowError(line, reason) for line, reason in cursor.fetchall()]
        if errors:
            raise ImportFailed(errors)
        cursor.execute(
            f"SELECT DISTINCT {txn}_month_of(booked_at::timestamptz) FROM {self.staging}"
        )
        for (month,) in cursor.fetchall():
            cursor.execute(f"SELECT ensure_{txn}_partition(%s)", [month])
            self.months_written.append(month.isoformat())
        cursor.execute(
            f"""
            INSERT INTO {txn} ({self.stored})
            SELECT {self.values}
              FROM {self.staging} s JOIN {account} a ON a.iban = s.iban
             WHERE NOT EXISTS (SELECT FROM {txn} t WHERE t.transaction_id = s.transaction_id)
            """
        )
        created = cursor.rowcount
        cursor.execute(f"SELECT count(*) FROM {self.staging}")
        (total,) = cursor.fetchone()
        return {"created": created, "unchanged": total - created}

    # --- A bulk load -----------------------------------------------------------------------
    def _bulk_load(self, path, progress, progress_stream):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [IMPORT_LOCK])
        self.sampled = set()
        try:
            self._clean_up()
            parts = self.copy_in_parts(
                path, parts=LOAD_WORKERS, prefix=PART_PREFIX, progress=progress
            )
            if parts is None:
                # COPY cannot read it as it is: the row-by-row reader names the lines.
                self._clean_up()
                return super().run(path, progress_stream=progress_stream)
            return self._load_parts(parts, progress)
        finally:
            self._clean_up()
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [IMPORT_LOCK])

    def _clean_up(self):
        """Drop staging and load tables: this import's, or those of one that died (no
        other can be running: this one holds the lock)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT format('%%I.%%I', schemaname, tablename) FROM pg_tables"
                " WHERE schemaname = %s AND tableowner = current_user"
                " AND starts_with(tablename, %s)",
                [STAGING_SCHEMA, PART_PREFIX + "_"],
            )
            for (table,) in cursor.fetchall():
                cursor.execute(f"DROP TABLE {table}")
            cursor.execute(f"SELECT discard_{self.table}_load()")

    def _load_parts(self, parts, progress):
        txn, tables = self.table, [table for table, _ in parts]
        staged = "(" + " UNION ALL ".join(f"SELECT * FROM {table}" for table in tables) + ")"
        total = sum(rows for _, rows in parts)
        progress.say(f"{total:,} rows copied; checking and loading them by month")
        months = self._months_sampled()
        loaded = self._load_months(months, tables)
        if any(_outside_the_months(error) for _, error in loaded):
            with connection.cursor() as cursor:
                months = self._months(cursor, tables)
            loaded = self._load_months(months, tables)
        failure = next((error for _, error in loaded if error is not None), None)
        if failure is not None or sum(rows or 0 for rows, _ in loaded) != total:
            self._name_the_bad_rows(staged, failure)
        with connection.cursor() as cursor:
            months = [month for month in months if self._has_rows(cursor, self._loaded(month))]
        progress.say(f"indexing {len(months)} month(s), {LOAD_WORKERS} at a time")
        try:
            on_own_connections(
                [functools.partial(self._index_month, month) for month in months],
                workers=LOAD_WORKERS,
            )
        except IntegrityError:
            # A month's key (transaction_id, booked_at) twice: the file repeats a row.
            self.staging = staged
            with connection.cursor() as cursor:
                raise ImportFailed(self._duplicates(cursor)) from None
        with connection.cursor() as cursor:
            unchanged = self._check_ids(cursor, staged)
            fresh, grown = self._plan_months(cursor, months)
        progress.say(f"publishing: {len(fresh)} month(s) attached, {len(grown)} grown")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {txn} IN SHARE ROW EXCLUSIVE MODE")
            for month in grown:
                cursor.execute(
                    f"INSERT INTO {txn} ({self.stored}) SELECT {self.stored}"
                    f" FROM {self._loaded(month)}"
                )
            for month in fresh:
                cursor.execute(f"SELECT attach_{txn}_load(%s)", [month])
        # A fresh month came with its statistics (`_index_month`); a grown one and the
        # table as a whole get theirs now.
        if total - unchanged:
            self._analyze(grown)
        return {"created": total - unchanged, "unchanged": unchanged}

    def sample(self, chunk: bytes):
        """Note the month written in one record of each chunk COPY reads."""
        start = chunk.find(b"\n") + 1
        end = chunk.find(b"\n", start)
        if start == 0 or end < 0:
            return
        try:
            fields = next(csv.reader([chunk[start:end].decode("utf-8")]))
        except (UnicodeDecodeError, csv.Error, StopIteration):
            return
        if len(fields) == len(self.columns) and MONTH_WRITTEN.match(fields[2]):
            self.sampled.add(fields[2][:7])

    def _months_sampled(self) -> list[str]:
        """The months a file most likely needs: every month from the first to the last
        sampled one, and one either side (an offset moves an instant by at most a day).
        Should a row fall outside them, its insert fails and `_months` says exactly."""
        numbers = sorted(int(m[:4]) * 12 + int(m[5:7]) - 1 for m in self.sampled)
        if not numbers or numbers[0] < 12 * 1 + 1 or numbers[-1] >= 12 * 9999 - 1:
            return []
        if numbers[-1] - numbers[0] > MAX_MONTHS_SPANNED:
            wanted = {n + shift for n in numbers for shift in (-1, 0, 1)}
        else:
            wanted = set(range(numbers[0] - 1, numbers[-1] + 2))
        return [f"{n // 12:04d}-{n % 12 + 1:02d}-01" for n in sorted(wanted)]

    def _months(self, cursor, tables) -> list[str]:
        """Every month a row of the file may fall in: the month written in its booked_at
        and the ones either side. A row whose text is no date has no month and fails its
        cast anyway."""
        prefixes = " UNION ".join(f"SELECT DISTINCT left(booked_at, 7) FROM {t}" for t in tables)
        cursor.execute(
            f"""
            SELECT DISTINCT (to_date(p, 'YYYY-MM') + shift * interval '1 month')::date::text
              FROM ({prefixes}) AS prefixes(p), (VALUES (-1), (0), (1)) AS shifts(shift)
             WHERE p ~ '^[0-9]{{4}}-(0[1-9]|1[0-2])$' AND p >= '0001-02'
             ORDER BY 1
            """
        )
        return [month for (month,) in cursor.fetchall()]

    def _load_months(self, months, tables):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT prepare_{self.table}_load(%s::date[])", [months])
        return on_own_connections(
            [functools.partial(self._load_part, table) for table in tables],
            workers=LOAD_WORKERS,
        )

    @staticmethod
    def _has_rows(cursor, table) -> bool:
        cursor.execute(f"SELECT EXISTS (SELECT FROM {table})")
        return cursor.fetchone()[0]

    def _load_part(self, table):
        """Cast one staging table into the load, testing only what the table does not
        refuse by itself. (rows inserted, None), or (None, the database's error)."""
        where = " AND ".join(
            f"coalesce(({tested}), false)" for _, _, tested in self.checks() if tested
        )
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = '64MB'")
                cursor.execute(
                    f"""
                    INSERT INTO {self.load} ({self.stored})
                    SELECT {self.values}
                      FROM {table} s JOIN {Account._meta.db_table} a ON a.iban = s.iban
                     WHERE {where}
                    """
                )
                return cursor.rowcount, None
        except DatabaseError as error:
            return None, error

    def _name_the_bad_rows(self, staged, failure):
        self.staging = staged
        with connection.cursor() as cursor:
            errors = self.find_errors(cursor)
        if errors:
            raise ImportFailed(errors)
        if failure is not None:
            raise failure
        raise RuntimeError("rows went missing from the load, yet every row passes the checks")

    def _check_ids(self, cursor, staged) -> int:
        """Same id twice in the file: an error. Stored before: left out when the data is
        the same, an error when it differs. Returns how many were left out.

        Every month's key starts with transaction_id, so both sides are read in id order
        from their indexes and merged, once, within the ids of the file. The planner
        does not know an id is unique across months and would probe every month for
        every row (about fifteen times slower on the benchmark's file), so it is told."""
        cursor.execute(
            f"SELECT EXISTS (SELECT FROM {self.load} GROUP BY transaction_id HAVING count(*) > 1)"
        )
        if cursor.fetchone()[0]:
            self.staging = staged
            raise ImportFailed(self._duplicates(cursor))
        cursor.execute(f"SELECT EXISTS (SELECT FROM {self.table})")
        if not cursor.fetchone()[0]:
            return 0
        cursor.execute(f"SELECT min(transaction_id), max(transaction_id) FROM {self.load}")
        bounds = cursor.fetchone()
        with transaction.atomic():
            cursor.execute("SET LOCAL enable_nestloop = off")
            cursor.execute("SET LOCAL enable_hashjoin = off")
            cursor.execute(
                f"""
                SELECT n.transaction_id FROM {self.load} n
                  JOIN {self.table} t USING (transaction_id)
                 WHERE t.transaction_id BETWEEN %s AND %s
                   AND ({_prefixed("t", self.stored)})
                       IS DISTINCT FROM ({_prefixed("n", self.stored)})
                """,
                bounds,
            )
            changed = [transaction_id for (transaction_id,) in cursor.fetchall()]
            if not changed:
                cursor.execute(
                    f"DELETE FROM {self.load} n USING {self.table} t"
                    " WHERE t.transaction_id = n.transaction_id"
                    " AND t.transaction_id BETWEEN %s AND %s",
                    bounds,
                )
                return cursor.rowcount
        cursor.execute(
            f"SELECT line, transaction_id FROM {staged} s WHERE transaction_id = ANY(%s)",
            [changed],
        )
        raise ImportFailed(
            [
                RowError(
                    line, f"transaction_id {transaction_id} was imported before with different data"
                )
                for line, transaction_id in cursor.fetchall()
            ]
        )

    def _plan_months(self, cursor, months) -> tuple[list[str], list[str]]:
        """The loaded months that become partitions (none, or an empty one, so far) and
        those whose partition has rows already, which get the new rows inserted."""
        fresh: list[str] = []
        grown: list[str] = []
        for month in months:
            if not self._has_rows(cursor, self._loaded(month)):
                continue  # every row of it was stored before
            cursor.execute("SELECT to_regclass(%s)", [f"public.{self._partition(month)}"])
            (partition,) = cursor.fetchone()
            grown_month = partition is not None and self._has_rows(cursor, partition)
            (grown if grown_month else fresh).append(month)
        return fresh, grown

    def _index_month(self, month):
        with connection.cursor() as cursor:
            # Once, here, rather than by the first reader: visibility settled for every
            # row (the key check below reads the indexes only), and statistics. Frozen
            # too: the rows are final, and a month frozen while it is being written
            # anyway is never read and written whole again by an anti-wraparound vacuum
            # (autovacuum's, at a moment of its choosing, on every month at once).
            cursor.execute(f"VACUUM (FREEZE, ANALYZE) {self._loaded(month)}")
            with transaction.atomic():
                # This load is parallel already: one process per month.
                cursor.execute("SET LOCAL max_parallel_maintenance_workers = 0")
                cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
                cursor.execute(f"SELECT index_{self.table}_load(%s)", [month])

    def _partition(self, month: str) -> str:
        year, number, _ = month.split("-")
        return f"{self.table}_y{year}m{number}"

    def _loaded(self, month: str) -> str:
        year, number, _ = month.split("-")
        return f"{self.load}_y{year}m{number}"


PART_PREFIX = "transactions"
MONTH_WRITTEN = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])-")
# Loaded as one range of months up to this span; a file beyond it gets its months only.
MAX_MONTHS_SPANNED = 120


def _outside_the_months(error) -> bool:
    """The insert failed on a row whose month has no load table (no constraint named)."""
    cause = getattr(error, "__cause__", None)
    return (
        cause is not None
        and getattr(cause, "sqlstate", None) == "23514"
        and cause.diag.constraint_name is None
    )


def _prefixed(alias: str, columns: str) -> str:
    return ", ".join(f"{alias}.{column.strip()}" for column in columns.split(","))

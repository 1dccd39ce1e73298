"""Importing banking data (DESIGN §8): accounts, holdings, transactions.

Every field is checked in SQL on the all-text staging table (see
`consent.csvload.SqlCheckedImport`), so ten million transactions never pass through
Python one by one. Each check returns (line, reason) for the rows that break it.
"""

from django.db import IntegrityError

from consent.csvload import ImportFailed, RowError, SqlCheckedImport
from consent.models import Customer

from .countries import ISO_COUNTRIES
from .models import Account, AccountKind, Holding, Product, Transaction

# Above this many rows (and more than the table holds) an import rebuilds the index.
BULK_LOAD_ROWS = 1_000_000
IBAN_SHAPE = r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$"
DECIMAL_AMOUNT = r"^-?[0-9]{1,12}(\.[0-9]{1,2})?$"


def has_utc_offset(column: str) -> str:
    return (
        f"(right({column}, 1) = 'Z'"
        f" OR substr({column}, length({column}) - 5, 1) IN ('+', '-')"
        f" OR substr({column}, length({column}) - 4, 1) IN ('+', '-')"
        f" OR substr({column}, length({column}) - 2, 1) IN ('+', '-'))"
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
    return (
        f"s.{column} ~ {sql_text(DECIMAL_AMOUNT)}",
        f"'{column} ' || coalesce(quote_literal(s.{column}), 'missing')"
        f" || ' is not a decimal like -1234.56'",
    )


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
                    f"s.iban ~ {sql_text(IBAN_SHAPE)}",
                    "'iban ' || coalesce(quote_literal(s.iban), 'missing')"
                    " || ' is not an IBAN like NL91ABNA0417164300'",
                ),
                (
                    f"s.iban !~ {sql_text(IBAN_SHAPE)} OR {iban_checksum_ok('s.iban')}",
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
        yield f"""
            SELECT line, 'duplicate iban ' || iban || ' (first on line ' || first || ')'
              FROM (SELECT line, iban, min(line) OVER (PARTITION BY iban) AS first
                      FROM {self.staging} WHERE iban IS NOT NULL) d
             WHERE line <> first
        """

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
        yield f"""
            SELECT line, 'duplicate customer_number/product_code ' || customer_number || '/'
                   || product_code || ' (first on line ' || first || ')'
              FROM (SELECT line, customer_number, product_code,
                           min(line) OVER (PARTITION BY customer_number, product_code) AS first
                      FROM {self.staging}) d
             WHERE line <> first
        """
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

    def check_sql(self):
        account = Account._meta.db_table
        yield errors_query(
            self.staging,
            f"LEFT JOIN {account} a ON a.iban = s.iban",
            [
                required_text("transaction_id", 64),
                (
                    "a.id IS NOT NULL",
                    f"CASE WHEN s.iban ~ {sql_text(IBAN_SHAPE)}"
                    " THEN 'unknown iban ' || s.iban"
                    " ELSE 'iban ' || coalesce(quote_literal(s.iban), 'missing')"
                    " || ' is not an IBAN like NL91ABNA0417164300' END",
                ),
                (
                    # A regular expression per row costs more than the whole COPY; the
                    # offset is checked by position instead (Z, ±HH, ±HHMM or ±HH:MM).
                    "pg_input_is_valid(s.booked_at, 'timestamptz')"
                    " AND s.booked_at ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]'"
                    f" AND {has_utc_offset('s.booked_at')}",
                    "'booked_at ' || coalesce(quote_literal(s.booked_at), 'missing')"
                    " || ' is not a time like 2026-11-02T14:05:00+01:00'",
                ),
                decimal_field("amount"),
                currency_field(),
                optional_text("counterparty_name", 200),
                (
                    f"s.counterparty_iban IS NULL OR s.counterparty_iban ~ {sql_text(IBAN_SHAPE)}",
                    "'counterparty_iban ' || quote_literal(s.counterparty_iban)"
                    " || ' is not an IBAN'",
                ),
                (
                    "s.mcc IS NULL OR s.mcc ~ '^[0-9]{4}$'",
                    "'mcc ' || quote_literal(s.mcc) || ' is not a four-digit merchant"
                    " category code'",
                ),
                (
                    f"s.country IN {sql_list(ISO_COUNTRIES)}",
                    "'country ' || coalesce(quote_literal(s.country), 'missing')"
                    " || ' is not an ISO 3166-1 alpha-2 code'",
                ),
                optional_text("description", 500),
            ],
        )

    def merge(self, cursor):
        account, txn = Account._meta.db_table, Transaction._meta.db_table
        # Imports of transactions are serialised; readers (the engine) are not blocked.
        cursor.execute(f"LOCK TABLE {txn} IN SHARE ROW EXCLUSIVE MODE")
        values = """
            s.transaction_id, a.id AS account_id, s.booked_at::timestamptz AS booked_at,
            s.amount::numeric(14, 2) AS amount, s.currency,
            coalesce(s.counterparty_name, '') AS counterparty_name,
            coalesce(s.counterparty_iban, '') AS counterparty_iban,
            s.mcc, s.country, coalesce(s.description, '') AS description
        """
        cursor.execute(
            f"""
            SELECT s.line, 'transaction_id ' || s.transaction_id
                   || ' was imported before with different data'
              FROM (SELECT s.line, {values} FROM {self.staging} s
                      JOIN {account} a ON a.iban = s.iban
                     WHERE EXISTS (SELECT FROM {txn} t
                                    WHERE t.transaction_id = s.transaction_id)) s
              JOIN {txn} t USING (transaction_id)
             WHERE (t.account_id, t.booked_at, t.amount, t.currency, t.counterparty_name,
                    t.counterparty_iban, t.mcc, t.country, t.description)
                   IS DISTINCT FROM
                   (s.account_id, s.booked_at, s.amount, s.currency, s.counterparty_name,
                    s.counterparty_iban, s.mcc, s.country, s.description)
            """
        )
        errors = [RowError(line, reason) for line, reason in cursor.fetchall()]
        if errors:
            raise self.failed(errors)
        cursor.execute(f"SELECT count(*) FROM {self.staging}")
        (total,) = cursor.fetchone()
        cursor.execute(f"SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = '{txn}'::regclass")
        (stored,) = cursor.fetchone()
        # Loading more rows than the table holds (a first load, a migration): building
        # the secondary index once afterwards is several times cheaper than updating it
        # row by row. It takes the table for the length of the load, like any bulk load.
        rebuild = total > max(stored, BULK_LOAD_ROWS)
        if rebuild:
            cursor.execute(f"LOCK TABLE {txn} IN ACCESS EXCLUSIVE MODE")
            # Only the owner may drop an index: its function does (consent/dbroles.py).
            cursor.execute(f"SELECT suspend_indexes_{txn}()")
        cursor.execute("SAVEPOINT insert_transactions")
        try:
            cursor.execute(
                f"""
                INSERT INTO {txn} (transaction_id, account_id, booked_at, amount, currency,
                                   counterparty_name, counterparty_iban, mcc, country,
                                   description)
                SELECT {values}
                  FROM {self.staging} s JOIN {account} a ON a.iban = s.iban
                 WHERE NOT EXISTS (SELECT FROM {txn} t
                                    WHERE t.transaction_id = s.transaction_id)
                """
            )
        except IntegrityError:
            # Rows already stored were left out, so a key clash is a duplicate in the
            # file; finding which lines costs a sort, paid only when it happens.
            cursor.execute("ROLLBACK TO SAVEPOINT insert_transactions")
            duplicates = self._duplicates(cursor)
            if duplicates:
                raise self.failed(duplicates) from None
            raise
        created = cursor.rowcount
        if rebuild:
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            cursor.execute(f"SELECT restore_indexes_{txn}()")
        if created < total:
            # Some rows matched stored ones; the same id twice in this file among them?
            cursor.execute(
                f"SELECT count(*) - count(DISTINCT transaction_id) FROM {self.staging} s"
                f" WHERE EXISTS (SELECT FROM {txn} t WHERE t.transaction_id = s.transaction_id)"
            )
            (repeated,) = cursor.fetchone()
            if repeated:
                raise self.failed(self._duplicates(cursor))
        return {"created": created, "unchanged": total - created}

    @staticmethod
    def failed(errors):
        return ImportFailed(errors)

"""All-or-nothing CSV imports through PostgreSQL COPY (README, Commands).

An import reads the file once: each row is checked in Python (shape and field formats,
with its line number) and streamed with COPY into a staging table. Rules that
involve other rows or other tables (duplicates in the file, unknown customers) are then
checked in SQL on the staging table. Only when nothing is wrong is the staging table
merged into the real tables, set-based and keyed, so re-importing a file changes nothing.
Any error rolls the whole transaction back.

Big files (millions of transactions) use `SqlCheckedImport`: no Python per row at all.
The file's bytes go to COPY unchanged, into an all-text staging table whose `line`
column numbers the records, and every field is checked in one SQL pass
(`pg_input_is_valid`, regular expressions, joins). When COPY itself cannot read the file
(a row with the wrong number of fields, bad UTF-8, a field spanning lines), the import
falls back to the row-by-row reader, which names every such line. A very big file may
also be copied in parts, each on a connection of its own (`copy_in_parts`), for an import
that loads in parallel and publishes in one transaction (`banking.imports`).
"""

import csv
import functools
import io
import itertools
import os
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import ClassVar

import psycopg
from django.db import DatabaseError, connection, connections, transaction

from .dbroles import STAGING_SCHEMA
from .progress import Progress


@dataclass(frozen=True, order=True)
class RowError:
    line: int
    reason: str

    def __str__(self):
        return f"line {self.line}: {self.reason}"


class ImportFailed(Exception):
    def __init__(self, errors: Sequence[RowError]):
        self.errors = sorted(errors)
        super().__init__(f"{len(self.errors)} bad row(s); nothing was imported")


def on_own_connections(tasks: Sequence[Callable[[], object]], *, workers: int) -> list:
    """Run each task on a thread with a database connection of its own, `workers` at a
    time; return their results in order. Every task finishes before the first failure is
    raised, so nothing is still writing when the caller cleans up."""

    def run(task):
        try:
            return task()
        finally:
            connections.close_all()  # this thread's connections only

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run, task) for task in tasks]
    return [future.result() for future in futures]


class CsvImport:
    """Subclasses declare the columns, the staging table and three pieces of SQL."""

    columns: ClassVar[tuple[str, ...]]
    # The key column(s) a row is identified by, for duplicate detection within a file.
    key: ClassVar[tuple[str, ...]]
    # Columns a file may add after `columns`, in any order; the staging table has them
    # all (NULL when the file has not), after `columns`. `present` says which it had.
    optional_columns: ClassVar[tuple[str, ...]] = ()
    present: tuple[str, ...] = ()

    @property
    def staging_columns(self) -> str:
        """Column definitions of the staging table after `line integer`, in `columns` order
        (a subclass sets it, or derives it)."""
        raise NotImplementedError

    def parse(self, row: dict[str, str]) -> tuple:
        """Return the staging values for one row, or raise ValueError with a reason."""
        raise NotImplementedError

    def parse_optional(self, row: dict[str, str]) -> tuple:
        """The staging values of `optional_columns` (None for one the file lacks)."""
        return ()

    def check_sql(self) -> Iterable[str]:
        """SQL statements over `staging` returning (line, reason) for rows that break rules."""
        return ()

    def merge(self, cursor) -> dict[str, int]:
        """Merge `staging` into the real tables; return counts for the summary."""
        raise NotImplementedError

    # The staging table: `create_staging` names it.
    staging: str

    def create_staging(self, cursor):
        """An unlogged table of the import's own, in its own schema (the runtime role may
        create nothing in `public`, and no temporary tables). Made inside the import's
        transaction and dropped before it commits: a crash or an error leaves nothing."""
        self.staging = f"{STAGING_SCHEMA}.import_{uuid.uuid4().hex}"
        cursor.execute(
            f"CREATE UNLOGGED TABLE {self.staging} (line integer NOT NULL, {self.staging_columns})"
        )

    def drop_staging(self, cursor):
        cursor.execute(f"DROP TABLE {self.staging}")

    def find_errors(self, cursor) -> list[RowError]:
        errors = self._duplicates(cursor)
        for sql in self.check_sql():
            cursor.execute(sql)
            errors += [RowError(line, reason) for line, reason in cursor.fetchall()]
        return errors

    def run(self, path, *, progress_stream=None) -> dict[str, int]:
        with transaction.atomic(), connection.cursor() as cursor:
            self.create_staging(cursor)
            errors = self._copy(cursor, path, progress_stream)
            if not errors:
                errors += self.find_errors(cursor)
            if errors:
                raise ImportFailed(errors)
            counts = self.merge(cursor)
            self.drop_staging(cursor)
            return counts

    def _copy(self, cursor, path, progress_stream) -> list[RowError]:
        errors: list[RowError] = []
        progress = Progress.of_file(path, progress_stream)
        names = ", ".join(("line", *self.columns, *self.optional_columns))
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            try:
                header = next(reader, None)
            except UnicodeDecodeError:
                return [RowError(1, "the file is not UTF-8")]
            if header is None or not self._header_ok([h.strip() for h in header]):
                return [RowError(1, self._header_rule())]
            self.header = [h.strip() for h in header]
            self.present = tuple(self.header[len(self.columns) :])
            errors += self._copy_rows(cursor, names, reader, handle, progress)
        return errors

    def _header_ok(self, header: list[str]) -> bool:
        extra = header[len(self.columns) :]
        return (
            header[: len(self.columns)] == list(self.columns)
            and set(extra) <= set(self.optional_columns)
            and len(set(extra)) == len(extra)
        )

    def _header_rule(self) -> str:
        rule = "the header must be exactly: " + ",".join(self.columns)
        if self.optional_columns:
            rule += ", optionally followed by " + " and ".join(self.optional_columns)
        return rule

    def _copy_rows(self, cursor, names, reader, handle, progress) -> list[RowError]:
        errors: list[RowError] = []
        line = reader.line_num
        with cursor.copy(f"COPY {self.staging} ({names}) FROM STDIN") as copy:
            try:
                for values in reader:
                    line = reader.line_num
                    if line % 10000 == 0:
                        progress.update(handle.buffer.tell())
                    error = self._row(values, line, copy, write=not errors)
                    if error:
                        errors.append(error)
            except UnicodeDecodeError:
                errors.append(RowError(line + 1, "the file is not UTF-8 from here on"))
            except csv.Error as exc:
                errors.append(RowError(reader.line_num, f"unreadable CSV: {exc}"))
            progress.close()
        return errors

    def _row(self, values, line, copy, *, write) -> RowError | None:
        if values == []:
            return None  # a blank line
        header = getattr(self, "header", self.columns)
        if len(values) != len(header):
            return RowError(line, f"expected {len(header)} fields, found {len(values)}")
        for name, value in zip(header, values, strict=True):
            if "\x00" in value:
                # PostgreSQL text cannot hold NUL; COPY would fail without naming the line.
                return RowError(line, f"{name} contains a NUL character")
        try:
            row = dict(zip(header, values, strict=True))
            parsed = (*self.parse(row), *self.parse_optional(row))
        except ValueError as exc:
            return RowError(line, str(exc))
        if write:
            copy.write_row((line, *parsed))
        return None

    def _duplicates(self, cursor) -> list[RowError]:
        cursor.execute(duplicates_sql(self.staging, self.key))
        return [RowError(line, reason) for line, reason in cursor.fetchall()]


def duplicates_sql(staging: str, key: tuple[str, ...]) -> str:
    """(line, reason) for every staged row whose key an earlier line of the file already
    had: one pass with a window function, for any import."""
    columns = ", ".join(key)
    shown = " || '/' || ".join(key)
    return f"""
        SELECT line, 'duplicate {"/".join(key)} ' || {shown} || ' (first on line ' || first || ')'
          FROM (SELECT line, {columns}, min(line) OVER (PARTITION BY {columns}) AS first
                  FROM {staging} WHERE {" AND ".join(f"{c} IS NOT NULL" for c in key)}) d
         WHERE line <> first
    """


def required(row: dict[str, str], name: str, *, max_length: int | None = None) -> str:
    value = row[name].strip()
    if not value:
        raise ValueError(f"{name} is missing")
    if max_length is not None and len(value) > max_length:
        raise ValueError(f"{name} is longer than {max_length} characters")
    return value


class SqlCheckedImport(CsvImport):
    """An import for big files: COPY the file as it is, check every field in SQL.

    Subclasses give `check_sql()` statements over `self.staging` (all columns `text`,
    NULL for an empty field) that return (line, reason), and a `merge` that casts.
    Unlogged staging tables (not temporary ones) also let PostgreSQL scan them with
    parallel workers.
    """

    chunk_size = 1 << 20

    @property
    def staging_columns(self):
        return ", ".join(f"{name} text" for name in self.columns)

    def create_staging(self, cursor):
        self.staging = f"{STAGING_SCHEMA}.import_{uuid.uuid4().hex}"
        # Records are numbered from 2: line 1 is the header. Valid while no field spans
        # lines, which `_copy` verifies before trusting the numbers.
        cursor.execute(
            f"CREATE UNLOGGED TABLE {self.staging} ("
            " line bigint GENERATED BY DEFAULT AS IDENTITY (START WITH 2),"
            f" {self.staging_columns})"
        )

    def find_errors(self, cursor) -> list[RowError]:
        errors = []
        for sql in self.check_sql():
            cursor.execute(sql)
            errors += [RowError(line, reason) for line, reason in cursor.fetchall()]
        return errors

    def parse(self, row):
        # Only the fallback path calls this: fields stay text, SQL checks them.
        return tuple(value if value != "" else None for value in row.values())

    def _copy(self, cursor, path, progress_stream) -> list[RowError]:
        with open(path, "rb") as handle:
            header = handle.readline()
            try:
                names = next(csv.reader(io.StringIO(header.decode("utf-8"))), None)
            except UnicodeDecodeError:
                return [RowError(1, "the file is not UTF-8")]
            if names is None or [h.strip() for h in names] != list(self.columns):
                return [RowError(1, "the header must be exactly: " + ",".join(self.columns))]
            cursor.execute("SAVEPOINT raw_copy")
            try:
                records, copied = self._copy_raw(cursor, handle, progress_stream, path)
            except (DatabaseError, psycopg.Error):
                records, copied = None, None
            if records is not None and records == copied:
                cursor.execute("RELEASE SAVEPOINT raw_copy")
                return []
        # COPY could not read the file, or a quoted field spans lines so records are not
        # lines: read it row by row to name every bad line exactly.
        cursor.execute("ROLLBACK TO SAVEPOINT raw_copy")
        return super()._copy(cursor, path, progress_stream)

    def copy_in_parts(self, path, *, parts: int, prefix: str, progress: Progress):
        """COPY the file in `parts` byte ranges split at line ends, each on a connection of
        its own into a staging table of its own, `import_staging.<prefix>_…`, committed
        so that other connections can read it. Returns [(table, rows)], or None when
        COPY cannot read a part or a quoted field spans lines: only the row-by-row reader
        names those lines. The caller drops the tables either way.
        """
        with open(path, "rb") as handle:
            header = handle.readline()
            try:
                names = next(csv.reader(io.StringIO(header.decode("utf-8"))), None)
            except UnicodeDecodeError:
                return None
            if names is None or [h.strip() for h in names] != list(self.columns):
                return None
            bounds = [handle.tell()]
            size = os.path.getsize(path)
            for k in range(1, parts):
                handle.seek(max(bounds[-1], size * k // parts))
                handle.readline()  # to the end of the line the cut fell in
                bounds.append(handle.tell())
            bounds.append(size)
            # Each part numbers its records from the line it starts at.
            first_lines, line = [], 2
            for start, end in itertools.pairwise(bounds):
                first_lines.append(line)
                handle.seek(start)
                while start < end:
                    chunk = handle.read(min(self.chunk_size * 8, end - start))
                    start += len(chunk)
                    line += chunk.count(b"\n")
        run = uuid.uuid4().hex[:12]
        tables = [f"{STAGING_SCHEMA}.{prefix}_{run}_{k}" for k in range(parts)]

        def copy_part(k):
            start, end = bounds[k], bounds[k + 1]
            newlines, last = 0, b"\n"
            try:
                with (
                    transaction.atomic(),
                    connection.cursor() as cursor,
                    open(path, "rb") as handle,
                ):
                    # Without autovacuum: read once and dropped within minutes. Its
                    # ANALYZE of millions of fresh rows would cost CPU during the load and
                    # hold a snapshot that keeps the load's own VACUUM from marking the
                    # months' pages all-visible (and frozen).
                    cursor.execute(
                        f"CREATE UNLOGGED TABLE {tables[k]} (line bigint GENERATED BY DEFAULT AS"
                        f" IDENTITY (START WITH {first_lines[k]}), {self.staging_columns})"
                        " WITH (autovacuum_enabled = off)"
                    )
                    # FREEZE: made in this transaction, so its rows need no visibility
                    # checks (and no hint bits written) when the load reads them.
                    with cursor.copy(
                        f"COPY {tables[k]} ({', '.join(self.columns)})"
                        " FROM STDIN (FORMAT csv, ENCODING 'UTF8', FREEZE)"
                    ) as copy:
                        handle.seek(start)
                        while start < end:
                            chunk = handle.read(min(self.chunk_size, end - start))
                            start += len(chunk)
                            newlines += chunk.count(b"\n")
                            last = chunk[-1:] or last
                            copy.write(chunk)
                            self.sample(chunk)
                            progress.advance(len(chunk))
                    copied = cursor.rowcount
            except (DatabaseError, psycopg.Error):
                return None
            records = newlines + (0 if last == b"\n" else 1)
            return records if records == copied else None

        copied = on_own_connections(
            [functools.partial(copy_part, k) for k in range(parts)], workers=parts
        )
        progress.close()
        if None in copied:
            return None
        return list(zip(tables, copied, strict=True))

    def sample(self, chunk: bytes):
        """Called with every chunk `copy_in_parts` sends (from several threads)."""

    def _copy_raw(self, cursor, handle, progress_stream, path) -> tuple[int, int]:
        progress = Progress.of_file(path, progress_stream)
        names = ", ".join(self.columns)
        newlines, last = 0, b"\n"
        with cursor.copy(
            f"COPY {self.staging} ({names}) FROM STDIN (FORMAT csv, ENCODING 'UTF8')"
        ) as copy:
            while chunk := handle.read(self.chunk_size):
                newlines += chunk.count(b"\n")
                last = chunk[-1:]
                copy.write(chunk)
                progress.update(handle.tell())
        progress.close()
        records = newlines + (0 if last == b"\n" else 1)
        return records, cursor.rowcount

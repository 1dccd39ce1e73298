"""Importing customers (README, Commands).

Columns: customer_number,first_name,last_name,email,birth_date,language, optionally
followed by `closed_on` (the day the customer left the bank, `YYYY-MM-DD`, or empty) and
`phone` (for the contact centre's calls, or empty).

- A `closed_on` closes the customer as `close_customer` does (consents withdrawn by the
  system, offers retracted, login disabled), in the import's transaction. An empty one
  changes nothing: leaving is not undone by an import. A different date for a customer
  who already left is an error, like a date in the future or before a choice the
  customer made.
- Without a `phone` column the stored numbers stay; with one, an empty field clears it.
- A customer whose profile retention pseudonymised is never filled in again: their rows
  change nothing.
"""

import datetime as dt
import functools
import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils import timezone

from consent.models import Customer
from infra.csvload import CsvImport, required
from ledger.models import Channel, ConsentEvent, Language
from lifecycle.leaving import close_customer

CUSTOMER_NUMBER = re.compile(r"^[0-9A-Za-z-]{1,20}$")
PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{5,18}[0-9]$")


@functools.cache  # parse() asks for every row; the models do not change meanwhile
def max_length(name: str) -> int:
    """What both the customer and its login can hold (a longer value would fail the merge)."""
    return min(_max_length(Customer, name), _max_length(get_user_model(), name))


def _max_length(model: type[models.Model], name: str) -> int:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or field.max_length is None:
        raise TypeError(f"{model.__name__}.{name} has no maximum length")
    return field.max_length


def parse_date(value: str, name: str) -> dt.date:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} {value!r} is not a date like 1990-12-31") from None


class CustomerImport(CsvImport):
    columns = ("customer_number", "first_name", "last_name", "email", "birth_date", "language")
    optional_columns = ("closed_on", "phone")
    staging_columns = (
        "customer_number text, first_name text, last_name text, email text,"
        " birth_date date, language text, closed_on date, phone text"
    )
    key = ("customer_number",)

    def __init__(self, *, today: dt.date, now: dt.datetime | None = None):
        self.today = today
        self.now = now or timezone.now()

    def parse_optional(self, row):
        closed_on = (row.get("closed_on") or "").strip() or None
        if closed_on is not None:
            closed_on = parse_date(closed_on, "closed_on")
            if closed_on > self.today:
                raise ValueError(f"closed_on {closed_on} is in the future")
        phone = (row.get("phone") or "").strip()
        if phone and not PHONE.match(phone):
            raise ValueError(f"phone {phone!r} is not a phone number like +31 20 123 4567")
        return (closed_on, phone if "phone" in row else None)

    def parse(self, row):
        number = required(row, "customer_number")
        if not CUSTOMER_NUMBER.match(number):
            raise ValueError(f"customer_number {number!r} may hold only letters, digits and '-'")
        email = required(row, "email", max_length=max_length("email"))
        try:
            validate_email(email)
        except ValidationError:
            raise ValueError(f"email {email!r} is not an e-mail address") from None
        birth_date = parse_date(required(row, "birth_date"), "birth_date")
        if birth_date > self.today:
            raise ValueError(f"birth_date {birth_date} is in the future")
        language = required(row, "language")
        if language not in Language.values:
            raise ValueError(f"language {language!r} must be one of: {', '.join(Language.values)}")
        names = [
            required(row, name, max_length=max_length(name)) for name in ("first_name", "last_name")
        ]
        return (number, *names, email, birth_date, language)

    def check_sql(self):
        user, customer = get_user_model()._meta.db_table, Customer._meta.db_table
        # A login name taken by someone who is not this customer (a staff user, say).
        yield f"""
            SELECT s.line, 'customer_number ' || s.customer_number
                   || ' is already the username of a user who is not this customer'
              FROM {self.staging} s
              JOIN {user} u ON u.username = s.customer_number
              LEFT JOIN {customer} c ON c.user_id = u.id
             WHERE c.id IS NULL OR c.customer_number <> s.customer_number
        """
        # Leaving happens once, on one day.
        yield f"""
            SELECT s.line, 'customer ' || s.customer_number || ' left on ' || c.closed_on
                   || '; closed_on ' || s.closed_on || ' cannot change that'
              FROM {self.staging} s JOIN {customer} c USING (customer_number)
             WHERE s.closed_on IS NOT NULL AND c.closed_on IS NOT NULL
               AND s.closed_on <> c.closed_on
        """
        # Nobody left before a choice they made themselves (the database refuses it too).
        yield f"""
            SELECT s.line, 'customer ' || s.customer_number || ' made a choice on '
                   || (max(e.occurred_at) AT TIME ZONE '{settings.TIME_ZONE}')::date
                   || ', after closed_on ' || s.closed_on
              FROM {self.staging} s JOIN {customer} c USING (customer_number)
              JOIN {ConsentEvent._meta.db_table} e ON e.customer_id = c.id
             WHERE s.closed_on IS NOT NULL AND c.closed_on IS NULL
               AND e.channel <> '{Channel.SYSTEM.value}'
             GROUP BY s.line, s.customer_number, s.closed_on
            HAVING (max(e.occurred_at) AT TIME ZONE '{settings.TIME_ZONE}')::date > s.closed_on
        """

    def merge(self, cursor):
        user, customer = get_user_model()._meta.db_table, Customer._meta.db_table
        # New customers get a login whose password is unusable ('!' prefix, as Django's
        # set_unusable_password) until they set one.
        cursor.execute(
            f"""
            INSERT INTO {user} (username, password, first_name, last_name, email,
                                is_superuser, is_staff, is_active, date_joined)
            SELECT customer_number, '!' || replace(gen_random_uuid()::text, '-', ''),
                   first_name, last_name, email, false, false, true, now()
              FROM {self.staging}
            ON CONFLICT (username) DO NOTHING
            """
        )
        cursor.execute(
            f"SELECT count(*) FROM {self.staging} s JOIN {customer} c USING (customer_number)"
        )
        (existing,) = cursor.fetchone()
        # The phone number is merged only when the file has the column.
        phone = "phone" in self.present
        columns = ["first_name", "last_name", "email", "birth_date", "language"]
        columns += ["phone"] if phone else []
        current = ", ".join(f"{customer}.{name}" for name in columns)
        excluded = ", ".join(f"EXCLUDED.{name}" for name in columns)
        cursor.execute(
            f"""
            INSERT INTO {customer} (user_id, customer_number, first_name, last_name, email,
                                    birth_date, language, phone)
            SELECT u.id, s.customer_number, s.first_name, s.last_name, s.email,
                   s.birth_date, s.language, coalesce(s.phone, '')
              FROM {self.staging} s JOIN {user} u ON u.username = s.customer_number
            ON CONFLICT (customer_number) DO UPDATE
               SET {", ".join(f"{name} = EXCLUDED.{name}" for name in columns)}
             WHERE ({current}) IS DISTINCT FROM ({excluded})
               -- a pseudonymised profile is never filled in again
               AND {customer}.pseudonymised_on IS NULL
            """
        )
        written = cursor.rowcount
        cursor.execute(f"SELECT count(*) FROM {self.staging}")
        (total,) = cursor.fetchone()
        created = total - existing
        closed = self._close(cursor, customer)
        return {
            "created": created,
            "updated": written - created,
            "unchanged": existing - (written - created),
            "closed": closed,
        }

    def _close(self, cursor, customer) -> int:
        """Customers the file says left, who had not yet: closed as `close_customer` does,
        one by one (leaving is rare), in the import's transaction."""
        cursor.execute(
            f"""SELECT c.id, s.closed_on
                  FROM {self.staging} s JOIN {customer} c USING (customer_number)
                 WHERE s.closed_on IS NOT NULL AND c.closed_on IS NULL ORDER BY c.id"""
        )
        leaving = cursor.fetchall()
        for pk, on in leaving:
            close_customer(customer=Customer.objects.get(pk=pk), on=on, at=self.now)
        return len(leaving)

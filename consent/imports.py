"""Importing customers (DESIGN §8).

Columns: customer_number,first_name,last_name,email,birth_date,language
"""

import datetime as dt
import re

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from .csvload import CsvImport, required
from .models import Customer, Language

CUSTOMER_NUMBER = re.compile(r"^[0-9A-Za-z-]{1,20}$")


def max_length(name: str) -> int:
    """What both the customer and its login can hold (a longer value would fail the merge)."""
    user_field = get_user_model()._meta.get_field(name)
    return min(Customer._meta.get_field(name).max_length, user_field.max_length)


def parse_date(value: str, name: str) -> dt.date:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} {value!r} is not a date like 1990-12-31") from None


class CustomerImport(CsvImport):
    columns = ("customer_number", "first_name", "last_name", "email", "birth_date", "language")
    staging_columns = (
        "customer_number text, first_name text, last_name text, email text,"
        " birth_date date, language text"
    )
    key = ("customer_number",)

    def __init__(self, *, today: dt.date):
        self.today = today

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
              FROM staging s
              JOIN {user} u ON u.username = s.customer_number
              LEFT JOIN {customer} c ON c.user_id = u.id
             WHERE c.id IS NULL OR c.customer_number <> s.customer_number
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
              FROM staging
            ON CONFLICT (username) DO NOTHING
            """
        )
        cursor.execute(f"SELECT count(*) FROM staging s JOIN {customer} c USING (customer_number)")
        (existing,) = cursor.fetchone()
        cursor.execute(
            f"""
            INSERT INTO {customer} (user_id, customer_number, first_name, last_name, email,
                                    birth_date, language)
            SELECT u.id, s.customer_number, s.first_name, s.last_name, s.email,
                   s.birth_date, s.language
              FROM staging s JOIN {user} u ON u.username = s.customer_number
            ON CONFLICT (customer_number) DO UPDATE
               SET first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,
                   email = EXCLUDED.email, birth_date = EXCLUDED.birth_date,
                   language = EXCLUDED.language
             WHERE ({customer}.first_name, {customer}.last_name, {customer}.email,
                    {customer}.birth_date, {customer}.language)
                   IS DISTINCT FROM
                   (EXCLUDED.first_name, EXCLUDED.last_name, EXCLUDED.email,
                    EXCLUDED.birth_date, EXCLUDED.language)
            """
        )
        written = cursor.rowcount
        cursor.execute("SELECT count(*) FROM staging")
        (total,) = cursor.fetchone()
        created = total - existing
        return {
            "created": created,
            "updated": written - created,
            "unchanged": existing - (written - created),
        }

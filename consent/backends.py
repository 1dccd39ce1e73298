"""Login backend: Django's, but the user comes with their customer record.

Every customer page needs `request.user.customer`; loading both in one query saves a
round trip on every request (a customer page makes a constant, small number of queries).

Every request asks for its user, so that query is plain SQL made from the two models'
columns once per process, not an ORM queryset built and compiled each time (that was
0.3 of its 0.6 ms of CPU). What it returns is what `select_related("customer")` returns:
the user, with `user.customer` set (or known to be missing: a staff member), no more.
"""

import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User as DjangoUser
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import OneToOneField

from infra import prepared
from infra.precompiled import columns, instance, width

from .models import Customer

User = get_user_model()


def _link() -> OneToOneField[Any, Any]:
    link = Customer._meta.get_field("user")
    assert isinstance(link, OneToOneField)
    return link


@functools.cache
def _user_with_customer_sql() -> str:
    user, customer = User._meta, Customer._meta
    return (
        f"SELECT {columns(User, 'u')}, {columns(Customer, 'c')}"
        f' FROM "{user.db_table}" u'
        f' LEFT OUTER JOIN "{customer.db_table}" c'
        f' ON c."{_link().column}" = u."{user.pk.column}"'
        f' WHERE u."{user.pk.column}" = %s'
    )


def user_with_customer(user_id: Any) -> DjangoUser | None:
    """The user with this primary key and their customer record, in one query; None if
    there is no such user."""
    try:
        user_id = User._meta.pk.to_python(user_id)
    except ValidationError:
        return None
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        prepared.execute(cursor, _user_with_customer_sql(), [user_id])
        row = cursor.fetchone()
    if row is None:
        return None
    split = width(User)
    user = instance(User, row[:split])
    assert user is not None  # the user's own columns: never NULL
    customer = instance(Customer, row[split:])
    # As select_related does: `user.customer` is this record, or raises DoesNotExist
    # without a query; the customer's `user` is this user.
    link = _link()
    link.remote_field.set_cached_value(user, customer)
    if customer is not None:
        link.set_cached_value(customer, user)
    return user


class CustomerBackend(ModelBackend):
    def get_user(self, user_id: Any) -> DjangoUser | None:
        user = user_with_customer(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

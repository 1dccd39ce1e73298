"""The login backend's user comes with its customer in one query, exactly as the ORM's
`select_related("customer")` would give it."""

import pytest
from django.contrib.auth import get_user_model
from django.forms.models import model_to_dict

from consent.backends import CustomerBackend
from consent.models import Customer
from tests.factories import CustomerFactory, UserFactory


def test_a_customer_comes_with_their_record_in_one_query(db, django_assert_num_queries):
    customer = CustomerFactory()
    orm = get_user_model().objects.select_related("customer").get(pk=customer.user.pk)
    with django_assert_num_queries(1):
        user = CustomerBackend().get_user(str(customer.user.pk))  # as the session holds it
        assert user.customer.user is user
    assert model_to_dict(user) == model_to_dict(orm)
    assert model_to_dict(user.customer) == model_to_dict(orm.customer)
    assert user.password == orm.password and user.last_login == orm.last_login


def test_staff_without_a_customer_record_know_it_without_another_query(
    db, django_assert_num_queries
):
    staff = UserFactory(is_staff=True)
    with django_assert_num_queries(1):
        user = CustomerBackend().get_user(staff.pk)
        with pytest.raises(Customer.DoesNotExist):
            user.customer  # noqa: B018
    assert user == staff and user.is_staff


@pytest.mark.parametrize("user_id", [987654321, "not a number"])
def test_no_such_user_is_nobody(db, user_id):
    assert CustomerBackend().get_user(user_id) is None


def test_an_inactive_user_is_nobody(db):
    customer = CustomerFactory()
    get_user_model().objects.filter(pk=customer.user.pk).update(is_active=False)
    assert CustomerBackend().get_user(customer.user.pk) is None

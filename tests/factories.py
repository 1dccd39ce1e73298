import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from consent import publishing
from consent.catalogue import VERSION_FIELDS, VERSION_TEXT_FIELDS
from consent.models import Customer, Purpose, PurposeVersion


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct horse battery")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    customer_number = factory.Sequence(lambda n: f"{200000 + n}")
    user = factory.SubFactory(UserFactory, username=factory.SelfAttribute("..customer_number"))
    first_name = factory.Faker("first_name", locale="nl_NL")
    last_name = factory.Faker("last_name", locale="nl_NL")
    email = factory.LazyAttribute(lambda c: f"{c.customer_number}@example.nl")
    birth_date = dt.date(1985, 5, 17)
    language = "nl"


def add_purpose(code: str, *, position: int = 10, at=None, **texts) -> PurposeVersion:
    """A further consent-based offers purpose, with a complete first version published
    through the real service."""
    Purpose.objects.create(
        code=code, legal_basis="consent", required=False, direct_marketing=True, position=position
    )
    fields = {name: f"{code} {name}" for name in VERSION_TEXT_FIELDS}
    fields["data_categories"] = ["account_balances"]
    fields["retention_rules"] = [{"data": "offers", "years": 1, "from": "offer_closed"}]
    fields.update(texts)
    return publishing.publish_version(
        purpose_code=code,
        material=True,
        texts=fields,
        actor=None,
        at=at or timezone.now() - dt.timedelta(days=1),
    ).version


def publish_version(purpose_code: str, *, material: bool, at=None, **texts) -> PurposeVersion:
    """What a privacy officer does, through the real service: publish the next version,
    starting from the current texts."""
    latest = PurposeVersion.objects.filter(purpose__code=purpose_code).order_by("-version")[0]
    fields = {name: getattr(latest, name) for name in VERSION_FIELDS}
    fields.update({name: fields[name] + " (herzien)" for name in VERSION_TEXT_FIELDS[:6]})
    fields.update(texts)
    return publishing.publish_version(
        purpose_code=purpose_code,
        material=material,
        texts=fields,
        actor=None,
        at=at or timezone.now(),
    ).version


def publish_version_for_later(
    purpose_code: str, *, at, now, material: bool = True, **texts
) -> PurposeVersion:
    """A privacy officer publishes at `now` the next version, to take effect at `at`."""
    latest = PurposeVersion.objects.filter(purpose__code=purpose_code).order_by("-version")[0]
    fields = {name: getattr(latest, name) for name in VERSION_FIELDS}
    fields.update({name: fields[name] + " (per later)" for name in VERSION_TEXT_FIELDS[:6]})
    fields.update(texts)
    return publishing.publish_version(
        purpose_code=purpose_code, material=material, texts=fields, actor=None, at=at, now=now
    ).version

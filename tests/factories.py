import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

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


def publish_version(purpose_code: str, *, material: bool, at=None, **texts) -> PurposeVersion:
    """What a privacy officer does: publish the next version of a purpose's texts."""
    purpose = Purpose.objects.get(code=purpose_code)
    latest = purpose.versions.order_by("-version").first()
    fields = {
        name: texts.get(name, getattr(latest, name) + " (herzien)")
        for name in (
            "title_nl",
            "title_en",
            "description_nl",
            "description_en",
            "data_used_nl",
            "data_used_en",
        )
    }
    return PurposeVersion.objects.create(
        purpose=purpose,
        version=latest.version + 1,
        material=material,
        published_at=at or timezone.now(),
        **fields,
    )

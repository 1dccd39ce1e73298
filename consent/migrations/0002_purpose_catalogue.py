"""The five purposes of docs/ledger.md and their first published texts."""

import datetime as dt

from django.db import migrations

from consent.catalogue import PURPOSES

FIRST_PUBLISHED_AT = dt.datetime(2019, 7, 1, tzinfo=dt.UTC)
# The fields as the models had them at this migration (0004 moved some to the versions).
PURPOSE_FIELDS = (
    "code",
    "legal_basis",
    "required",
    "position",
    "data_categories",
    "retention_nl",
    "retention_en",
    "dpia_reference",
)
VERSION_FIELDS = (
    "title_nl",
    "title_en",
    "description_nl",
    "description_en",
    "data_used_nl",
    "data_used_en",
)


def create_catalogue(apps, schema_editor):
    Purpose = apps.get_model("consent", "Purpose")
    PurposeVersion = apps.get_model("consent", "PurposeVersion")
    for spec in PURPOSES:
        purpose = Purpose.objects.create(**{name: spec[name] for name in PURPOSE_FIELDS})
        PurposeVersion.objects.create(
            purpose=purpose,
            version=1,
            material=True,
            published_at=FIRST_PUBLISHED_AT,
            **{name: spec[name] for name in VERSION_FIELDS},
        )


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_initial")]
    operations = [migrations.RunPython(create_catalogue, migrations.RunPython.noop)]

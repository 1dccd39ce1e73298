"""After a restore of an older backup: what the customers and the feed's followers are told."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0010_leaving_is_a_ledger_event"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="choices_lost_since",
            field=models.DateTimeField(blank=True, null=True, verbose_name="keuzes verloren sinds"),
        ),
    ]

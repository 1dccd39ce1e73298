"""One supervisor per run: the run's row says when its supervisor task is next due, and a
supervisor due at another moment (replaced after a database outage or by a rerun) stops."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("offers", "0015_owner_deletes_only"),
    ]

    operations = [
        migrations.AddField(
            model_name="offerrun",
            name="supervisor_due_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="volgende controle om"),
        ),
    ]

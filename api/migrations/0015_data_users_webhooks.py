"""A data user's webhook endpoint delivers its own feed (`access.AccessChange`): a
delivery names a row of the bank's feed or of that one, exactly one, and goes with it
(ON DELETE CASCADE in the database, as in 0011)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0003_data_users_feed"),
        ("api", "0014_link_tokens_already_out"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhookdelivery",
            name="access_change",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="access.accesschange",
            ),
        ),
        migrations.AlterField(
            model_name="webhookdelivery",
            name="change",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="api.consentchange",
            ),
        ),
        migrations.AddConstraint(
            model_name="webhookdelivery",
            constraint=models.UniqueConstraint(
                fields=("endpoint", "access_change"), name="one_delivery_per_access_row"
            ),
        ),
        migrations.AddConstraint(
            model_name="webhookdelivery",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("access_change__isnull", True), ("change__isnull", False)),
                    models.Q(("access_change__isnull", False), ("change__isnull", True)),
                    _connector="OR",
                ),
                name="webhook_delivery_of_one_row",
            ),
        ),
        migrations.RunSQL(
            "ALTER TABLE api_webhookdelivery ADD CONSTRAINT"
            " api_webhookdelivery_access_change_id_cascade FOREIGN KEY (access_change_id)"
            " REFERENCES access_accesschange (id) ON DELETE CASCADE",
            "ALTER TABLE api_webhookdelivery DROP CONSTRAINT"
            " api_webhookdelivery_access_change_id_cascade",
        ),
    ]

"""Retention (issue #14) for the change feed: the kind `left_bank`, and the owner's
function that removes a customer's feed rows once retention removed their consent chain
(the feed is append-only for the runtime role; the function checks that a tombstone
stands for the chain)."""

from django.db import migrations, models

from infra.dbroles import OwnerFunction

REMOVE_CONSENT_CHANGES = """
DECLARE
    v_previous text;
    v_removed integer;
BEGIN
    IF NOT EXISTS (SELECT FROM consent_ledgertombstone WHERE customer_id = p_customer) THEN
        RAISE EXCEPTION 'the consent chain of customer % was not removed by retention',
            p_customer USING ERRCODE = 'insufficient_privilege';
    END IF;
    v_previous := retention_ignore_row_triggers(ARRAY['api_consentchange']::regclass[]);
    DELETE FROM api_consentchange WHERE customer_id = p_customer;
    GET DIAGNOSTICS v_removed = ROW_COUNT;
    PERFORM retention_restore_row_triggers(v_previous);
    RETURN v_removed;
END
"""


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0003_feed_is_append_only"),
        ("consent", "0008_retention"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="consentchange",
            name="change_kind_known",
        ),
        migrations.AlterField(
            model_name="consentchange",
            name="kind",
            field=models.CharField(
                choices=[
                    ("granted", "toestemming gegeven"),
                    ("withdrawn", "toestemming ingetrokken"),
                    ("objected", "bezwaar tegen direct marketing"),
                    ("objection_lifted", "bezwaar opgeheven"),
                    ("expired", "verlopen (maximale bewaarduur)"),
                    ("material_version", "nieuwe tekst met wezenlijke wijziging"),
                    ("turned_16", "leeftijd (16 jaar)"),
                    ("left_bank", "klant is vertrokken"),
                    ("reconciled", "rechtgezet"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddConstraint(
            model_name="consentchange",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "kind__in",
                        [
                            "granted",
                            "withdrawn",
                            "objected",
                            "objection_lifted",
                            "expired",
                            "material_version",
                            "turned_16",
                            "left_bank",
                            "reconciled",
                        ],
                    )
                ),
                name="change_kind_known",
            ),
        ),
        OwnerFunction(
            "remove_consent_changes", "p_customer bigint", "integer", REMOVE_CONSENT_CHANGES
        ),
    ]

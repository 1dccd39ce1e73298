"""The contact centre's group, *Klantenservice* (issue #12), with exactly what it needs:

- find a customer by number and see their one page (`consent.view_customer`);
- record a choice a customer asks for by phone or at a branch (`consent.act_for_customer`);
- the follow-up list of interested customers, and working it (`offers.view_followup`,
  `offers.change_followup`).

Nothing else: no review, no ledger list, no texts, no banking data. Also opens a
follow-up for every offer a customer already said "Interessant" to before the list
existed: they were promised a call.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Klantenservice"
PERMISSIONS = {
    "consent": ["view_customer", "act_for_customer"],
    "offers": ["view_followup", "change_followup"],
}


def create_group(apps, schema_editor):
    for label in PERMISSIONS:
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    permissions = []
    for app_label, codenames in PERMISSIONS.items():
        found = Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        missing = set(codenames) - set(found.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"permissions missing for {GROUP}: {sorted(missing)}")
        permissions += list(found)
    group.permissions.set(permissions)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


def follow_up_interested_customers(apps, schema_editor):
    Offer = apps.get_model("offers", "Offer")
    FollowUp = apps.get_model("offers", "FollowUp")
    OfferEvent = apps.get_model("offers", "OfferEvent")
    opened = FollowUp.objects.bulk_create(
        FollowUp(offer_id=pk, opened_at=changed_at, changed_at=changed_at)
        for pk, changed_at in Offer.objects.filter(
            status="accepted", follow_up__isnull=True
        ).values_list("pk", "status_changed_at")
    )
    OfferEvent.objects.bulk_create(
        OfferEvent(
            offer_id=follow_up.offer_id,
            kind="follow_up",
            from_state="",
            to_state="open",
            occurred_at=follow_up.opened_at,
            actor_kind="system",
            cause="follow_up",
        )
        for follow_up in opened
    )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("consent", "0007_staff_actions_and_dutch_names"),
        ("offers", "0008_offer_events_follow_ups_and_dutch_names"),
    ]

    operations = [
        migrations.RunPython(create_group, remove_group),
        migrations.RunPython(follow_up_interested_customers, migrations.RunPython.noop),
    ]

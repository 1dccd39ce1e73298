"""`analyze_offers_transaction(months)`: an import of transactions leaves the months it
filled, and the partitioned table itself, with fresh statistics (`MonthlyPartitions`),
so that the first engine run after it is planned from the data it reads."""

from django.conf import settings
from django.db import migrations

from infra.dbroles import RefreshMonthlyPartitions


class Migration(migrations.Migration):
    dependencies = [
        ("banking", "0001_initial"),
        ("offers", "0018_follow_ups_closed_by_withdrawal_or_objection"),
    ]

    operations = [
        RefreshMonthlyPartitions("Transaction", column="booked_at", time_zone=settings.TIME_ZONE),
    ]

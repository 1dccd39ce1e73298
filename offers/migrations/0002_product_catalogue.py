"""The bank's own products that accounts, holdings and offers refer to (docs/gate.md; README, Commands)."""

from django.db import migrations

PRODUCTS = [
    ("checking_account", "Betaalrekening", "Checking account"),
    ("savings_account", "Spaarrekening", "Savings account"),
    ("student_account", "Studentenrekening", "Student account"),
    ("travel_insurance_europe", "Reisverzekering Europa", "Travel insurance Europe"),
    ("travel_insurance_world", "Reisverzekering wereld", "World-wide travel insurance"),
]


def add_products(apps, schema_editor):
    Product = apps.get_model("offers", "Product")
    for code, name_nl, name_en in PRODUCTS:
        Product.objects.update_or_create(
            code=code, defaults={"name_nl": name_nl, "name_en": name_en}
        )


def remove_products(apps, schema_editor):
    apps.get_model("offers", "Product").objects.filter(code__in=[p[0] for p in PRODUCTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("offers", "0001_banking_and_offers")]

    operations = [migrations.RunPython(add_products, remove_products)]

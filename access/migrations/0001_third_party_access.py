"""Third parties' access (issue 26): data users, their permissions (Berlin Group
consents), the accounts each covers, and every read."""

import uuid

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("banking", "0001_initial"),
        ("consent", "0015_third_party_access"),
        ("ledger", "0005_third_party_access"),
        ("oauth2_provider", "0022_refreshtoken_token_family_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="DataUser",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=200, verbose_name="naam")),
                (
                    "registration_number",
                    models.CharField(
                        max_length=60, verbose_name="registratie- of vergunningnummer"
                    ),
                ),
                ("country", models.CharField(max_length=2, verbose_name="land")),
                ("contact", models.CharField(max_length=200, verbose_name="contact")),
                (
                    "status",
                    models.CharField(
                        choices=[("active", "actief"), ("suspended", "geschorst")],
                        default="active",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                (
                    "suspended_reason",
                    models.TextField(blank=True, verbose_name="reden van schorsing"),
                ),
                (
                    "suspended_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="geschorst op"),
                ),
                ("registered_at", models.DateTimeField(verbose_name="geregistreerd op")),
                (
                    "application",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="data_user",
                        to="oauth2_provider.application",
                        verbose_name="OAuth-client",
                    ),
                ),
            ],
            options={
                "verbose_name": "andere partij",
                "verbose_name_plural": "andere partijen (gegevensgebruikers)",
                "ordering": ["name"],
                "permissions": [("suspend_datauser", "Mag een andere partij schorsen")],
            },
        ),
        migrations.CreateModel(
            name="Permission",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "consent_id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, unique=True, verbose_name="consentId"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("received", "aangevraagd"),
                            ("valid", "geldig"),
                            ("rejected", "geweigerd"),
                            ("revokedByPsu", "ingetrokken door de klant"),
                            ("terminatedByTpp", "beëindigd door de andere partij"),
                        ],
                        default="received",
                        max_length=20,
                        verbose_name="status",
                    ),
                ),
                ("all_accounts", models.BooleanField(verbose_name="alle betaalrekeningen")),
                (
                    "ibans",
                    models.JSONField(blank=True, default=list, verbose_name="gevraagde rekeningen"),
                ),
                ("balances", models.BooleanField(verbose_name="saldi")),
                ("transactions", models.BooleanField(verbose_name="transacties")),
                ("valid_until", models.DateField(verbose_name="geldig tot en met")),
                (
                    "frequency_per_day",
                    models.PositiveSmallIntegerField(verbose_name="keer per dag"),
                ),
                ("reason", models.CharField(max_length=300, verbose_name="waarom")),
                (
                    "redirect_uri",
                    models.CharField(blank=True, max_length=500, verbose_name="terug naar"),
                ),
                ("requested_at", models.DateTimeField(verbose_name="aangevraagd op")),
                (
                    "decided_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="besloten op"),
                ),
                (
                    "history_from",
                    models.DateTimeField(blank=True, null=True, verbose_name="transacties vanaf"),
                ),
                ("text", models.TextField(blank=True, verbose_name="goedgekeurde tekst")),
                (
                    "text_version",
                    models.PositiveSmallIntegerField(
                        blank=True, null=True, verbose_name="tekstversie"
                    ),
                ),
                (
                    "text_language",
                    models.CharField(blank=True, max_length=2, verbose_name="taal van de tekst"),
                ),
                (
                    "text_sha256",
                    models.CharField(
                        blank=True, max_length=64, verbose_name="SHA-256 van de tekst"
                    ),
                ),
                (
                    "reads_on",
                    models.DateField(blank=True, null=True, verbose_name="gelezen op dag"),
                ),
                (
                    "reads_today",
                    models.PositiveSmallIntegerField(
                        default=0, verbose_name="keer gelezen die dag"
                    ),
                ),
                (
                    "ended_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="beëindigd op"),
                ),
                (
                    "ended_by",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("customer", "door u"),
                            ("staff", "door de klantenservice, op uw verzoek"),
                            ("data_user", "door de andere partij"),
                            ("left_bank", "door de bank, toen u geen klant meer was"),
                        ],
                        max_length=10,
                        verbose_name="beëindigd door",
                    ),
                ),
                (
                    "customer",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="consent.customer",
                        verbose_name="klant",
                    ),
                ),
                (
                    "data_user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="permissions",
                        to="access.datauser",
                        verbose_name="partij",
                    ),
                ),
                (
                    "ended_event",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="ledger.consentevent",
                        verbose_name="gebeurtenis van het einde",
                    ),
                ),
                (
                    "granted_event",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="ledger.consentevent",
                        verbose_name="gebeurtenis van de goedkeuring",
                    ),
                ),
            ],
            options={
                "verbose_name": "toegang van een andere partij",
                "verbose_name_plural": "toegang van andere partijen",
                "ordering": ["-requested_at"],
                "permissions": [
                    ("withdraw_permission", "Mag op verzoek van een klant de toegang intrekken")
                ],
            },
        ),
        migrations.CreateModel(
            name="PermittedAccount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "resource_id",
                    models.UUIDField(default=uuid.uuid4, unique=True, verbose_name="resourceId"),
                ),
                ("balances", models.BooleanField(verbose_name="saldo")),
                ("transactions", models.BooleanField(verbose_name="transacties")),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="banking.account",
                        verbose_name="rekening",
                    ),
                ),
                (
                    "permission",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="accounts",
                        to="access.permission",
                        verbose_name="toegang",
                    ),
                ),
            ],
            options={
                "verbose_name": "rekening met toegang",
                "verbose_name_plural": "rekeningen met toegang",
            },
        ),
        migrations.CreateModel(
            name="Read",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("accounts", "rekeninggegevens"),
                            ("balances", "saldo"),
                            ("transactions", "transacties"),
                        ],
                        max_length=12,
                        verbose_name="wat",
                    ),
                ),
                ("read_at", models.DateTimeField(verbose_name="gelezen op")),
                ("date_from", models.DateField(blank=True, null=True, verbose_name="vanaf")),
                ("date_to", models.DateField(blank=True, null=True, verbose_name="tot en met")),
                ("rows", models.PositiveIntegerField(verbose_name="aantal")),
                (
                    "account",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="access.permittedaccount",
                        verbose_name="rekening",
                    ),
                ),
                (
                    "permission",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reads",
                        to="access.permission",
                        verbose_name="toegang",
                    ),
                ),
            ],
            options={
                "verbose_name": "keer gelezen door een andere partij",
                "verbose_name_plural": "keren gelezen door andere partijen",
                "ordering": ["-read_at"],
            },
        ),
        migrations.AddConstraint(
            model_name="datauser",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["active", "suspended"])),
                name="data_user_status_known",
            ),
        ),
        migrations.AddConstraint(
            model_name="datauser",
            constraint=models.CheckConstraint(
                condition=models.Q(("country__regex", "^[A-Z]{2}$")), name="data_user_country_code"
            ),
        ),
        migrations.AddConstraint(
            model_name="datauser",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("status", "active"),
                    models.Q(
                        ("suspended_at__isnull", False),
                        models.Q(("suspended_reason", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="data_user_suspended_with_reason",
            ),
        ),
        migrations.AddIndex(
            model_name="permission",
            index=models.Index(fields=["customer", "status"], name="permission_per_customer"),
        ),
        migrations.AddConstraint(
            model_name="permission",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "status__in",
                        ["received", "valid", "rejected", "revokedByPsu", "terminatedByTpp"],
                    )
                ),
                name="permission_status_known",
            ),
        ),
        migrations.AddConstraint(
            model_name="permission",
            constraint=models.CheckConstraint(
                condition=models.Q(("frequency_per_day__gte", 1)),
                name="permission_frequency_at_least_once",
            ),
        ),
        migrations.AddConstraint(
            model_name="permission",
            constraint=models.CheckConstraint(
                condition=models.Q(("balances", True), ("transactions", True), _connector="OR"),
                name="permission_reads_something",
            ),
        ),
        migrations.AddConstraint(
            model_name="permission",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status__in", ["valid", "revokedByPsu"]), _negated=True),
                    models.Q(
                        ("customer__isnull", False),
                        ("granted_event__isnull", False),
                        models.Q(("text_sha256", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="permission_approved_is_bound",
            ),
        ),
        migrations.AddConstraint(
            model_name="permittedaccount",
            constraint=models.UniqueConstraint(
                fields=("permission", "account"), name="account_once_per_permission"
            ),
        ),
        migrations.AddIndex(
            model_name="read",
            index=models.Index(fields=["permission", "-read_at"], name="read_per_permission"),
        ),
        migrations.AddConstraint(
            model_name="read",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind__in", ["accounts", "balances", "transactions"])),
                name="read_kind_known",
            ),
        ),
    ]

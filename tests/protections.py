"""The protections the installed apps declare on their AppConfig (`append_only`,
`truncate_refused`, `owner_deletes_only`; infra.dbroles.PROTECTIONS says what each
means), which the database-role tests check the database against. Here, not in
`infra`, because it reads today's app registry, which migrations must never do."""

from django.apps import apps

from infra.dbroles import PROTECTIONS


def declared(protection: str) -> list[str]:
    """ "app_label.Model" of every model the installed apps declare under `protection`
    (an append-only table is also refused TRUNCATE)."""
    if protection not in PROTECTIONS:
        raise ValueError(f"unknown protection {protection!r}")
    wanted = (
        ("append_only", "truncate_refused") if protection == "truncate_refused" else (protection,)
    )
    return [
        f"{config.label}.{name}"
        for config in apps.get_app_configs()
        for attribute in wanted
        for name in getattr(config, attribute, ())
    ]

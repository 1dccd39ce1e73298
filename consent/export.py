"""Sections of `/export.json` that other apps contribute (DESIGN §11).

`consent` knows nothing of offers: an app registers a callable(customer) returning a
JSON-able list under its section name, in its AppConfig.ready.
"""

from collections.abc import Callable

EXPORT_SECTIONS: dict = {}


def register_export_section(name: str, fn: Callable) -> None:
    EXPORT_SECTIONS[name] = fn

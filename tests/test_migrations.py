"""Migrations are frozen: each carries the data it needs, as it was when it was written, and
reads models only through the `apps` it is given.

A migration that imported the application's code would change what it does whenever that
code changes: `consent` 0002 read the purposes from `consent.catalogue`, so appending a
purpose there made a fresh database get it from 0002, and the migration that really adds
it then failed on the unique code. So no migration imports anything of the application
(`ledger`, `consent`, `lifecycle`, `banking`, `offers`, `api`, `config`, ...): only the
standard library, Django, third-party packages and `infra`, whose migration operations
(database roles, owner functions, partitions) import no app. Nor does one look models up
in today's registry (`django.apps.apps`, `pgtrigger.ignore` by model label).
"""

import ast
from pathlib import Path

import pytest
from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent
# The one package of ours migrations may import: it holds migration operations and
# imports no app (`test_infra_imports_no_app`).
MAY_IMPORT = {"infra"}


def application_packages() -> set[str]:
    """Every package of this repository (a folder with `__init__.py` at the top), but
    `infra`: new apps are covered without a change here."""
    return {path.parent.name for path in ROOT.glob("*/__init__.py")} - MAY_IMPORT


def ours(path: Path) -> bool:
    """In this repository, and not in a hidden folder (the .venv's packages)."""
    return path.is_relative_to(ROOT) and not any(
        part.startswith(".") for part in path.relative_to(ROOT).parts
    )


def migration_files() -> list[Path]:
    return sorted(
        path for path in ROOT.rglob("migrations/*.py") if path.name != "__init__.py" and ours(path)
    )


def _top(module: str) -> str:
    return module.split(".")[0]


def _resolve(module: str | None, level: int, *, package: str) -> str:
    """The absolute name of `from <dots><module> import ...` in `package`."""
    if not level:
        return module or ""
    base = package.split(".")[: len(package.split(".")) - level + 1]
    return ".".join([*base, *([module] if module else [])])


def forbidden(source: str, *, package: str) -> list[str]:
    """What a migration's source imports of the application, or looks up in today's
    models, as `line N: ...`; anywhere in the file, functions included."""
    found = []
    application = application_packages()
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = _resolve(node.module, node.level, package=package)
            names = [module]
            if module == "django.apps" and any(alias.name == "apps" for alias in node.names):
                found.append(f"line {node.lineno}: from django.apps import apps (today's models)")
        elif isinstance(node, ast.Call):
            function = node.func
            called = (
                function.id
                if isinstance(function, ast.Name)
                else f"{getattr(function.value, 'id', '?')}.{function.attr}"
                if isinstance(function, ast.Attribute)
                else ""
            )
            if called in {"import_module", "importlib.import_module", "__import__"}:
                argument = node.args[0] if node.args else None
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    names = [argument.value]
                else:
                    found.append(f"line {node.lineno}: {called}(...) of a name not written out")
            elif called == "pgtrigger.ignore":
                found.append(
                    f"line {node.lineno}: pgtrigger.ignore (looks the triggers up in today's"
                    " models; name them as the database had them)"
                )
        for name in names:
            if _top(name) in application:
                found.append(f"line {node.lineno}: imports {name}")
    return found


def _package(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])


@pytest.mark.parametrize("path", migration_files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_no_migration_imports_application_code(path):
    problems = forbidden(path.read_text(), package=_package(path))
    assert problems == [], f"{path.relative_to(ROOT)} is not frozen: {problems}"


def test_infra_imports_no_app():
    """What migrations may import stays free of the application: `infra` imports none of
    it either (lazily inside a function neither), or a migration would import it through
    `infra`."""
    problems = {
        str(path.relative_to(ROOT)): found
        for path in sorted((ROOT / "infra").rglob("*.py"))
        if ours(path) and (found := forbidden(path.read_text(), package=_package(path)))
    }
    assert problems == {}


def test_every_app_s_migrations_are_checked():
    """Each of our apps with migrations (ledger, consent, banking, offers, api, the staff's
    activation codes, and any app added later) is among the files scanned."""
    scanned = {path.parent for path in migration_files()}
    folders = [
        Path(config.path) / "migrations"
        for config in apps.get_app_configs()
        if ours(Path(config.path)) and (Path(config.path) / "migrations").is_dir()
    ]
    assert {folder.relative_to(ROOT).as_posix() for folder in folders} >= {
        "ledger/migrations",
        "consent/migrations",
        "banking/migrations",
        "offers/migrations",
        "api/migrations",
        "config/staff_otp/migrations",
    }
    assert [folder for folder in folders if folder not in scanned] == []


@pytest.mark.parametrize(
    "source",
    [
        "from consent.catalogue import PURPOSES",
        "import offers.rules",
        "import consent.catalogue as catalogue",
        "from ledger import keys",
        "from config.settings import base",
        "from lifecycle.retention import KINDS",
        "from banking.models import Account",
        "from api.changes import record_event",
        "from ..catalogue import PURPOSES",
        "from .. import catalogue",
        "from . import other_migration",
        "def forwards(apps, schema_editor):\n    from ledger.keys import chain_keyring\n",
        "import importlib\nimportlib.import_module('offers.rules')",
        "__import__('consent.catalogue')",
        "from importlib import import_module\nimport_module(name)",
        "from django.apps import apps",
        "import pgtrigger\nwith pgtrigger.ignore('ledger.ConsentEvent:append_only'):\n    pass",
    ],
)
def test_the_check_names_every_way_of_importing_application_code(source):
    assert forbidden(source, package="consent.migrations") != []


@pytest.mark.parametrize(
    "source",
    [
        "import datetime as dt\nimport hashlib",
        "from django.conf import settings",
        "from django.db import migrations, models",
        "import django.contrib.postgres.fields",
        "from django.contrib.auth.management import create_permissions",
        "import pgtrigger.compiler\nimport pgtrigger.migrations",
        "from oauth2_provider.settings import oauth2_settings",
        "from infra.dbroles import AppendOnly, OwnerFunction",
    ],
)
def test_the_check_lets_the_standard_library_django_packages_and_infra_through(source):
    assert forbidden(source, package="consent.migrations") == []

"""Only the gate reads banking data for the engine; consent knows nothing of offers."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BANKING_MODELS = {"Account", "Holding", "Transaction"}
# Modules that may touch banking models, and why: the gate reads them for the engine;
# models define them; imports and demo/synthetic data write them; migrations; the
# customer's own export (GDPR Art. 15) hands them to the customer, never to offers;
# retention deletes them when their period ends (issue #14), and reads none.
ALLOWED = {
    "offers/gate.py",
    "offers/models.py",
    "offers/imports.py",
    "offers/demo.py",
    "offers/export.py",
    "offers/retention.py",
}


def python_files(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if "/migrations/" not in relative:
            yield relative, ast.parse(path.read_text(), filename=relative)


def imported_names(tree) -> set[tuple[str, str]]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = ("." * node.level) + (node.module or "")
            found |= {(module, alias.name) for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {(alias.name, "") for alias in node.names}
    return found


def test_no_module_under_offers_but_the_gate_reads_banking_models():
    offenders = []
    for relative, tree in python_files("offers"):
        if relative in ALLOWED:
            continue
        for module, name in imported_names(tree):
            if name in BANKING_MODELS and module.endswith("models"):
                offenders.append(f"{relative} imports {name}")
            if name == "models" and module in {".", "offers", ".."}:
                offenders.append(f"{relative} imports the models module")
        source = ast.unparse(tree)
        for table in ("offers_transaction", "offers_account", "offers_holding"):
            if table in source:
                offenders.append(f"{relative} names table {table}")
    assert offenders == []


def test_rules_are_pure_they_import_no_database_code():
    for relative, tree in python_files("offers/rules"):
        for module, _ in imported_names(tree):
            assert not module.startswith("django.db"), relative
            assert "models" not in module and "gate" not in module, relative


def test_consent_never_imports_offers():
    for relative, tree in python_files("consent"):
        for module, _ in imported_names(tree):
            assert not module.startswith("offers"), relative

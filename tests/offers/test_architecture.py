"""Only the gate reads banking data for the engine; consent knows nothing of offers."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BANKING_MODELS = {"Account", "Holding", "Transaction"}
# The modules of `offers` that may touch the bank's records (`banking.models`), and why:
# the gate reads them for the engine; the demo data writes them. (The bank's own app,
# `banking`, keeps, imports, exports and retains them; migrations aside.)
ALLOWED = {
    "offers/gate.py",
    "offers/demo.py",
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

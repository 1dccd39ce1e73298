"""docs/recipes/add-an-offer-rule.md, followed to the letter: its product migration runs on
the test database, its rule module is importable under its name, the registry it shows
is the one the engine uses, and the two test files it asks for run as they stand in the
recipe (their tests are this module's). A step of the recipe that no longer works, or no
longer says what the code does, fails here."""

import sys

import pytest

import offers.rules
from tests.offers.test_architecture import imported_names
from tests.recipes.recipes import add_tests_of, apply_migration, blocks, newest_migration
from tests.test_migrations import forbidden

BLOCKS = blocks("add-an-offer-rule.md")
(PRODUCT,) = (block for path, block in BLOCKS.items() if "/migrations/" in path)
RULE_MODULE = BLOCKS["offers/rules/cancellation_cover.py"]
REGISTRY = BLOCKS["offers/rules/__init__.py"]
TESTS = [block for path, block in BLOCKS.items() if path.startswith("tests/")]
# Our apps' modules that hold the registry (offers.rules, and what imported its names).
APPS = ("offers", "api", "consent", "banking", "lifecycle", "ledger", "config", "infra")

# As if the file existed: the recipe's tests import it by its name.
RULE = RULE_MODULE.install()
TODAYS_RULES = offers.rules.RULES


@pytest.fixture(autouse=True)
def _the_rule_is_registered(monkeypatch):
    """`RULES` and `RULES_BY_CODE` as the recipe's `offers/rules/__init__.py` makes them,
    wherever our modules hold them (the engine imported them by name)."""
    registry = REGISTRY.module()
    for name in ("RULES", "RULES_BY_CODE"):
        today = getattr(offers.rules, name)
        for module in list(sys.modules.values()):
            if module.__name__.split(".")[0] in APPS and getattr(module, name, None) is today:
                monkeypatch.setattr(module, name, getattr(registry, name))


@pytest.fixture(autouse=True)
def _the_recipes_migration_ran(request):
    if "db" in request.fixturenames:
        request.getfixturevalue("db")
        apply_migration(PRODUCT)


# The test files the recipe asks for: their tests and fixtures are this module's.
for _block in TESTS:
    add_tests_of(_block, globals())


def test_the_recipes_migration_is_frozen():
    assert forbidden(PRODUCT.source, package="banking.migrations") == []


def test_the_recipes_migration_comes_after_the_newest_migration_of_banking():
    newest = newest_migration("banking")
    assert PRODUCT.module().Migration.dependencies == [("banking", newest)]
    number = int(PRODUCT.path.rsplit("/", 1)[1][:4])
    assert number == int(newest[:4]) + 1, f"the recipe's migration is {int(newest[:4]) + 1:04}"


def test_the_recipes_registry_is_todays_with_the_new_rule():
    """The recipe shows the whole `offers/rules/__init__.py`: today's rules, in today's
    order, and the new one."""
    registry = REGISTRY.module()
    codes = [rule.code for rule in registry.RULES]
    assert RULE.RULE in registry.RULES
    codes.remove(RULE.RULE.code)
    assert codes == [rule.code for rule in TODAYS_RULES]


def test_the_recipes_rule_is_pure_as_every_rule_must_be():
    """What tests/offers/test_architecture.py asks of every module in offers/rules/."""
    import ast

    for module, _ in imported_names(ast.parse(RULE_MODULE.source)):
        assert not module.startswith("django.db")
        assert "models" not in module and "gate" not in module


def test_the_recipes_product_has_its_key_facts(db):
    from banking.models import Product

    product = Product.objects.get(code=RULE.RULE.product)
    assert product.facts_nl and product.facts_en

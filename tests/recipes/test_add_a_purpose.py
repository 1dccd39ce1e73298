"""docs/recipes/add-a-purpose.md, followed to the letter: its migration runs on the test
database, on top of today's migrations, and the test file it asks for runs as it stands
in the recipe (its tests are this module's). A step of the recipe that no longer works,
or no longer says what the code does, fails here."""

import pytest

from tests.recipes.recipes import add_tests_of, apply_migration, blocks, newest_migration
from tests.test_migrations import forbidden

BLOCKS = blocks("add-a-purpose.md")
(MIGRATION,) = (block for path, block in BLOCKS.items() if "/migrations/" in path)
TESTS = BLOCKS["tests/consent/test_research_panel.py"]


@pytest.fixture(autouse=True)
def _the_recipes_migration_ran(request):
    if "db" in request.fixturenames:
        request.getfixturevalue("db")
        apply_migration(MIGRATION)


# The test file the recipe asks for: its tests and fixtures are this module's.
add_tests_of(TESTS, globals())


def test_the_recipes_migration_is_frozen():
    assert forbidden(MIGRATION.source, package="consent.migrations") == []


def test_the_recipes_migration_comes_after_the_newest_migration_of_consent():
    """Numbered after the newest one and depending on it: a recipe copied as it stands
    makes no second leaf."""
    newest = newest_migration("consent")
    assert MIGRATION.module().Migration.dependencies == [("consent", newest)]
    number = int(MIGRATION.path.rsplit("/", 1)[1][:4])
    assert number == int(newest[:4]) + 1, f"the recipe's migration is {int(newest[:4]) + 1:04}"

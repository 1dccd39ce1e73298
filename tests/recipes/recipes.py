"""Reading the recipes in docs/recipes/ as code: each file a recipe asks for is a fenced
block whose first line names it (`# consent/migrations/0016_research_panel.py`)."""

import functools
import re
import sys
import types
from dataclasses import dataclass
from pathlib import Path

from django.db import connection
from django.db.migrations.loader import MigrationLoader

ROOT = Path(__file__).resolve().parents[2]
RECIPES = ROOT / "docs" / "recipes"
FENCE = re.compile(r"^```python\n(# (?P<path>\S+\.py)\n.*?)^```$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Block:
    recipe: Path
    path: str  # the file the recipe asks for, relative to the repository
    source: str
    line: int  # where the block starts in the recipe

    def compiled(self):
        """Compiled with the recipe's name and line numbers: a failure points at the
        recipe, not at a temporary file."""
        padded = "\n" * (self.line - 1) + self.source
        return compile(padded, str(self.recipe.relative_to(ROOT)), "exec")

    @property
    def module_name(self) -> str:
        return self.path.removesuffix(".py").replace("/", ".")

    def module(self) -> types.ModuleType:
        """The block as the module it would be in the repository (its package set, so
        relative imports work), not yet in `sys.modules`."""
        module = types.ModuleType(self.module_name)
        module.__file__ = str(ROOT / self.path)
        module.__package__ = self.module_name.rpartition(".")[0]
        exec(self.compiled(), module.__dict__)  # noqa: S102 - the recipe's own code
        return module

    def install(self) -> types.ModuleType:
        """Importable under its name, as if the file existed (for the blocks after it)."""
        module = self.module()
        sys.modules[self.module_name] = module
        return module


def add_tests_of(block: Block, into: dict) -> None:
    """The test file `block` as a module of its own (its names stay its own), its tests
    and fixtures put into `into`, a test module's globals, for pytest to collect."""
    module = block.module()
    for name, value in vars(module).items():
        if name.startswith("test_") or hasattr(value, "_fixture_function_marker"):
            if name in into:
                raise AssertionError(f"{block.path}: {name} is defined twice")
            into[name] = value


def blocks(name: str) -> dict[str, Block]:
    recipe = RECIPES / name
    text = recipe.read_text()
    found = {}
    for match in FENCE.finditer(text):
        line = text.count("\n", 0, match.start(1)) + 1
        found[match["path"]] = Block(recipe, match["path"], match.group(1), line)
    return found


@functools.cache
def _project_state():
    return MigrationLoader(connection, ignore_no_migrations=True).project_state()


def apply_migration(block: Block) -> None:
    """Run the recipe's migration on the test database, on top of today's migrations,
    with the models as they are after them (its `apps`), as `migrate` would."""
    app_label, _, name = block.module_name.partition(".migrations.")
    migration = block.module().Migration(name, app_label)
    state = _project_state().clone()
    with connection.schema_editor() as editor:
        migration.apply(state, editor)


def newest_migration(app_label: str) -> str:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    (leaf,) = loader.graph.leaf_nodes(app_label)
    return leaf[1]

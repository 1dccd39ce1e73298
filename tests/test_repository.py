"""What people forget: a string left untranslated, a dependency left out of the lock."""

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ("locale", "api/locale")
SOURCES = (
    "config",
    "infra",
    "ledger",
    "consent",
    "lifecycle",
    "banking",
    "offers",
    "access",
    "api",
    "templates",
    "jinja",
    "manage.py",
    "locale",
)


def entries(po: Path) -> dict[str, tuple[str, bool]]:
    """msgid -> (all msgstr text, fuzzy?) of a .po file, without gettext's tools."""
    found: dict[str, tuple[str, bool]] = {}
    for block in po.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith("#~")]
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        text = "\n".join(line for line in lines if not line.startswith("#"))
        msgid = "".join(re.findall(r'"(.*)"', text.split("msgstr")[0].split("msgid_plural")[0]))
        strs = "".join(re.findall(r'"(.*)"', "msgstr".join(text.split("msgstr")[1:])))
        if "msgid" in text and msgid:
            found[msgid] = (strs, fuzzy)
    return found


def test_makemessages_leaves_the_translations_unchanged(tmp_path):
    """Every string in the code is in the English catalogues, translated, none fuzzy:
    running makemessages on a copy of the sources changes no entry."""
    if shutil.which("xgettext") is None:
        if os.environ.get("CI"):
            pytest.fail("CI=true and GNU gettext (xgettext) is missing: apt-get install gettext")
        pytest.skip("GNU gettext (xgettext) is not installed; CI checks this")
    for name in SOURCES:
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / name)
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.dev"}
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "en", "--no-obsolete"],
        cwd=tmp_path,
        env=environment,
        check=True,
        capture_output=True,
    )
    for catalogue in CATALOGUES:
        po = Path(catalogue) / "en" / "LC_MESSAGES" / "django.po"
        before, after = entries(ROOT / po), entries(tmp_path / po)
        assert sorted(set(after) - set(before)) == [], f"new strings not in {po}"
        assert sorted(set(before) - set(after)) == [], f"strings in {po} the code no longer has"
        untranslated = [msgid for msgid, (text, fuzzy) in after.items() if not text or fuzzy]
        assert untranslated == [], f"untranslated or fuzzy in {po}"


def test_the_lock_pins_every_dependency_of_the_project():
    """`make lock` after a change to pyproject.toml: the lock names every dependency."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    pinned = {
        re.split(r"[=\[ ]", line, maxsplit=1)[0].lower().replace("_", "-")
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if line and not line.startswith((" ", "#"))
    }
    names = {
        re.split(r"[<>=!~\[ ;]", spec, maxsplit=1)[0].lower().replace("_", "-") for spec in wanted
    }
    assert sorted(names - pinned) == []
    lock = (ROOT / "requirements.lock").read_text()
    assert lock.count("--hash=sha256:") >= len(pinned)


# What a file may not point at: the briefing the project was built from, or a path on a
# developer's machine. Everything the project needs is in the repository (docs/, data).
OUTSIDE = re.compile(r"DESIGN\.md|DESIGN §|\.\./shared|shared/(data|context)|/work/|/home/\w")


def test_no_file_refers_outside_the_repository():
    git = shutil.which("git")
    assert git is not None, "the check lists the repository's files with git"
    tracked = subprocess.run(
        [git, "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    offending = []
    for name in tracked:
        path = ROOT / name
        if not path.is_file() or path.suffix in {".png", ".mo", ".gz", ".ico"}:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        offending += [
            f"{name}:{number}: {line.strip()}"
            for number, line in enumerate(text.splitlines(), start=1)
            if OUTSIDE.search(line) and name != "tests/test_repository.py"
        ]
    assert offending == []

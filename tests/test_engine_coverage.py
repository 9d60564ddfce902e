"""The PostgreSQL leg runs only `dialect` tests: every part that touches the database keeps one.

A part of `wesog_dash` touches the database when one of its modules uses the SQLAlchemy
session or builds SQL. It is covered on PostgreSQL when a test module marked `dialect` (or
`postgresql_only`) lives in the tests folder of that part or imports it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "wesog_dash"
TOUCHES_DATABASE = re.compile(r"\bdb\.session\b|^from sqlalchemy\b|^import sqlalchemy\b", re.M)
MARKED = re.compile(r"^pytestmark = .*\bpytest\.mark\.(dialect|postgresql_only)\b", re.M)
# Where the database is only declared (tables, the engine's set-up), not queried: those are
# exercised by every test that uses a database, on PostgreSQL as on SQLite.
DECLARATIONS = {"models", "extensions", "database"}
# Parts tested through the routes that serve them rather than by import.
TESTED_THROUGH_ROUTES = {"telemetry": "tests/views/test_health.py"}


def part_of(module: Path) -> str:
    """The top-level package (or module) of wesog_dash that `module` belongs to."""
    return module.relative_to(PACKAGE).parts[0].removesuffix(".py")


def parts_touching_the_database() -> set[str]:
    """Every part of wesog_dash with a module that uses the session or builds SQL."""
    return {
        part_of(module)
        for module in PACKAGE.rglob("*.py")
        if TOUCHES_DATABASE.search(module.read_text())
    } - DECLARATIONS


def parts_imported(tree: ast.Module) -> set[str]:
    """The parts of wesog_dash a test module imports (`from wesog_dash.x…` or `… import x`)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = node.module.split(".")
            if names[0] != "wesog_dash":
                continue
            if len(names) > 1:
                found.add(names[1])
            else:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                names = alias.name.split(".")
                if names[0] == "wesog_dash" and len(names) > 1:
                    found.add(names[1])
    return found


def parts_covered_on_postgresql() -> set[str]:
    """The parts that a `dialect` test module lives beside or imports."""
    covered: set[str] = set()
    for test in (ROOT / "tests").rglob("test_*.py"):
        source = test.read_text()
        if not MARKED.search(source):
            continue
        covered |= parts_imported(ast.parse(source))
        folder = test.parent.name
        if folder != "tests":
            covered.add(folder)
        covered.update(part for part, path in TESTED_THROUGH_ROUTES.items() if test == ROOT / path)
    return covered


def test_every_part_that_touches_the_database_has_a_dialect_test() -> None:
    touching = parts_touching_the_database()
    assert {"deletions", "audit", "poller", "accounts"} <= touching  # the scan sees them
    assert touching - parts_covered_on_postgresql() == set()


def test_the_import_scan_reads_every_form_of_import() -> None:
    tree = ast.parse(
        "import wesog_dash.poller.lease\n"
        "from wesog_dash import accounts, audit\n"
        "from wesog_dash.deletions.safety.control import pause\n"
        "from tests.conftest import wait_for\n"
        "import sqlalchemy\n"
    )
    assert parts_imported(tree) == {"poller", "accounts", "audit", "deletions"}
    assert part_of(PACKAGE / "cli" / "follow.py") == "cli"
    assert part_of(PACKAGE / "config.py") == "config"

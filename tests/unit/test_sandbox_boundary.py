"""The sandbox (fakes, demo page) ships in the package but the bot's code never leans on
it: only `python -m bot --demo` reaches it, lazily, from bot/__main__.py."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BOT = ROOT / "bot"
ENTRY = BOT / "__main__.py"


def _sandbox_imports(path: Path) -> list[tuple[int, bool]]:
    """(line, at module level) of every import of bot.sandbox in the file."""
    tree = ast.parse(path.read_text("utf-8"))
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [("." * node.level) + (node.module or "")]
        if any(n == "bot.sandbox" or n.startswith(("bot.sandbox.", ".sandbox")) for n in names):
            found.append((node.lineno, id(node) in top_level))
    return found


def test_domain_code_never_imports_the_sandbox() -> None:
    offenders = {}
    for path in sorted(BOT.rglob("*.py")):
        if BOT / "sandbox" in path.parents or path == ENTRY:
            continue
        if found := _sandbox_imports(path):
            offenders[str(path.relative_to(ROOT))] = found
    assert offenders == {}


def test_the_entry_imports_the_sandbox_only_when_asked() -> None:
    found = _sandbox_imports(ENTRY)
    assert found, "python -m bot --demo starts the sandbox from bot/__main__.py"
    assert not [line for line, top in found if top], "only inside main(), for --demo"


def test_the_bot_runs_without_loading_the_sandbox() -> None:
    code = (
        "import sys, bot.__main__, bot.app, bot.runner, bot.dialog.handlers;"
        "loaded = sorted(m for m in sys.modules if m.startswith('bot.sandbox'));"
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr

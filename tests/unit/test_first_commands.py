"""The README leads with the demo, then the tests, then the production start; the entry
point takes --demo and refuses arguments it does not know, in one line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _commands() -> list[str]:
    readme = (ROOT / "README.md").read_text("utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", readme, re.S)
    lines = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line]


def test_readme_first_the_demo_then_the_tests_then_production() -> None:
    commands = _commands()
    assert commands[0] == "bash scripts/run.sh --demo"
    assert commands[1] == "bash scripts/test.sh"
    assert commands[2:4] == ["cp .env.example .env", "bash scripts/run.sh"]


def test_run_sh_passes_its_arguments_to_the_bot() -> None:
    assert (ROOT / "scripts" / "run.sh").read_text().rstrip().endswith(
        'exec .venv/bin/python -m bot "$@"'
    )


def test_an_unknown_argument_stops_with_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--dmeo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "usage: python -m bot [--demo [--port N]]; unknown: --dmeo"
    ]

"""The fakes live in ``bot.sandbox`` (the demo serves them too); ``tests.fakes.X`` names stay
importable for the tests and for branches written before the move."""

from __future__ import annotations

import importlib
import sys
from typing import Any


def alias(old: str, new: str, submodules: tuple[str, ...] = ()) -> None:
    """Make ``old`` the very module ``new`` (same classes, same state, private names too),
    not a copy: a FakeTelegram from either name is the same class."""
    sys.modules[old] = importlib.import_module(new)
    for name in submodules:
        sys.modules[f"{old}.{name}"] = importlib.import_module(f"{new}.{name}")


def reexport(namespace: dict[str, Any], new: str) -> None:
    """Every name of ``new`` (private ones too) in the shim's own namespace. For shims that
    must stay packages, so that ``python -m tests.fakes.X`` still finds their __main__."""
    module = importlib.import_module(new)
    namespace.update({k: v for k, v in vars(module).items() if not k.startswith("__")})

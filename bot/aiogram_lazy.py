"""aiogram's Telegram types built on first use instead of all at import.

`aiogram.types` ends by calling `model_rebuild()` on each of its ~300 pydantic models
with one shared namespace (their annotations name each other as strings). Each call
compiles a complete validator and serializer for that model and everything it nests:
~150 MB and ~2 s before the bot has read a single update (aiogram issue #1513). The
models are declared `defer_build=True`; only that loop builds them.

`install()`, called before anything imports aiogram, runs that import with the loop's
`model_rebuild` keeping the namespace on each model (pydantic's own
`__pydantic_parent_namespace__`, which a deferred model's first use resolves its names
in) instead of building. A model is then built by pydantic the first time it is used:
in a running bot, Update and the few types the Bot API answers with, ~5 MB.

Pinned like bot.aiogram_compat (TESTED_AIOGRAM there): tests/unit/test_aiogram_lazy.py
builds every type this way and checks a process that installed it.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

_lock = threading.Lock()
_installed = False


def install() -> bool:
    """Import aiogram with its types deferred; False when aiogram was imported already
    (its types are then built, as aiogram does it: nothing to change)."""
    global _installed
    with _lock:
        if _installed:
            return True
        if "aiogram.types" in sys.modules:
            return False
        from pydantic import BaseModel

        eager = BaseModel.__dict__["model_rebuild"]

        def keep_namespace(
            cls: type[BaseModel], *args: Any, _types_namespace: Any = None, **kwargs: Any
        ) -> bool | None:
            if _types_namespace is None or args or kwargs:
                return eager.__func__(cls, *args, _types_namespace=_types_namespace, **kwargs)
            # The shared namespace (a plain dict is what pydantic unpacks it into).
            cls.__pydantic_parent_namespace__ = {
                **(_parent_namespace(cls) or {}),
                **_types_namespace,
            }
            return None

        BaseModel.model_rebuild = classmethod(keep_namespace)  # type: ignore[method-assign,assignment]
        try:
            import aiogram.types as types
        finally:
            BaseModel.model_rebuild = eager  # type: ignore[method-assign]
        # A model built later builds the deferred types it nests in its own namespace
        # (pydantic resolves nested names in the outer model's), so the Bot API methods,
        # whose modules import their types only for type checkers, get the same one.
        import aiogram.methods as methods

        shared = {name: getattr(types, name) for name in types.__all__}
        for name in methods.__all__:
            method = getattr(methods, name)
            if isinstance(method, type) and issubclass(method, BaseModel):
                method.__pydantic_parent_namespace__ = {
                    **(_parent_namespace(method) or {}),
                    **shared,
                }
        _installed = True
        return True


def _parent_namespace(cls: type) -> dict[str, Any] | None:
    from pydantic._internal._model_construction import unpack_lenient_weakvaluedict

    return unpack_lenient_weakvaluedict(cls.__dict__.get("__pydantic_parent_namespace__"))

"""aiogram's types built on first use (bot/aiogram_lazy.py), in a fresh interpreter as
`python -m bot` starts: nothing is built by the import, an update and a Bot API call
work, and every type and method of the installed aiogram can still be built (a new
aiogram whose models need another namespace fails here, not on a user's update)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import aiogram

from bot.aiogram_compat import TESTED_AIOGRAM

ROOT = Path(__file__).resolve().parents[2]

_PROBE = r"""
import json, sys
from bot import aiogram_lazy

out = {"installed": aiogram_lazy.install()}
import aiogram.methods as methods
import aiogram.types as types

out["built_by_import"] = sorted(
    name for name in types.__all__
    if getattr(getattr(types, name), "__pydantic_complete__", False)
)
update = types.Update.model_validate({
    "update_id": 7,
    "message": {
        "message_id": 5, "date": 0, "chat": {"id": -100, "type": "supergroup", "title": "T"},
        "from": {"id": 1001, "is_bot": False, "first_name": "Анна"},
        "document": {"file_id": "F", "file_unique_id": "U", "file_name": "list.csv"},
        "reply_to_message": {"message_id": 4, "date": 0, "chat": {"id": -100, "type": "supergroup"},
                             "text": "Пришлите список"},
    },
})
out["update"] = [update.message.document.file_name, update.message.reply_to_message.text,
                 update.message.from_user.first_name]
call = methods.SendMessage(
    chat_id=-100, text="Обзвон создан",
    reply_markup=types.InlineKeyboardMarkup(inline_keyboard=[[
        types.InlineKeyboardButton(text="✅ Создать", callback_data="c:1")]]),
)
out["call"] = call.model_dump(mode="json", exclude_defaults=True)["reply_markup"]
out["answer"] = methods.SendMessage.__returning__.__name__
failed = []
for module in (types, methods):
    for name in module.__all__:
        model = getattr(module, name)
        if hasattr(model, "model_rebuild"):
            try:
                model.model_rebuild(raise_errors=True)
            except Exception as error:  # noqa: BLE001 - reported below
                failed.append(f"{name}: {error}"[:200])
out["failed"] = failed
out["again"] = aiogram_lazy.install()
print(json.dumps(out, ensure_ascii=False))
"""


def test_types_are_built_on_first_use_and_all_of_them_can_be() -> None:
    assert ".".join(aiogram.__version__.split(".")[:2]) in TESTED_AIOGRAM
    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["installed"] is True and out["again"] is True
    assert out["built_by_import"] == []
    assert out["update"] == ["list.csv", "Пришлите список", "Анна"]
    assert out["call"] == {"inline_keyboard": [[{"text": "✅ Создать", "callback_data": "c:1"}]]}
    assert out["answer"] == "Message"
    assert out["failed"] == []


def test_too_late_once_aiogram_is_imported_eagerly() -> None:
    probe = (
        "import aiogram.types, json; from bot import aiogram_lazy; "
        "print(json.dumps([aiogram_lazy.install(), aiogram.types.Message.__pydantic_complete__]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120,
        check=True,
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [False, True]

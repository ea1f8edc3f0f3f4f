"""The /_fake/... HTTP control API, used when the bot runs in another process."""

from __future__ import annotations

import httpx
from aiogram import Bot

from tests.fakes.telegram_api import FakeTelegram


async def test_control_endpoints(tg_bot: Bot, fake_telegram: FakeTelegram) -> None:
    user = {"id": 7, "first_name": "Олег", "username": "oleg"}
    async with httpx.AsyncClient(base_url=fake_telegram.base_url, timeout=5) as client:
        response = await client.post("/_fake/send_text", json={"user": user, "text": "/start"})
        update = response.json()["result"]
        assert update["message"]["chat"] == {
            "id": 7,
            "type": "private",
            "first_name": "Олег",
            "username": "oleg",
        }

        upload = await client.post(
            "/_fake/send_document",
            data={"user": '{"id": 7, "first_name": "Олег"}', "caption": "база"},
            files={"document": ("phones.xlsx", b"PK\x03\x04", "application/octet-stream")},
        )
        assert upload.json()["result"]["message"]["document"]["file_name"] == "phones.xlsx"

        await tg_bot.send_message(
            7,
            "Выберите",
            reply_markup={"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
        )
        messages = (await client.get("/_fake/messages", params={"chat_id": 7})).json()["result"]
        assert messages[0]["text"] == "Выберите"

        press = await client.post(
            "/_fake/press",
            json={"chat_id": 7, "user": user, "message_id": messages[0]["message_id"], "data": "a"},
        )
        assert press.json()["result"]["callback_query"]["data"] == "a"

        fault = await client.post("/_fake/fail_next", json={"method": "getMe", "error_code": 500})
        assert fault.json() == {"ok": True, "result": True}

        calls = (await client.get("/_fake/requests", params={"method": "sendMessage"})).json()
        assert calls["result"][0]["params"]["chat_id"] == 7

        bad = await client.post(
            "/_fake/press", json={"chat_id": 7, "user": user, "message_id": 99, "data": "a"}
        )
        assert bad.status_code == 400

    updates = await tg_bot.get_updates(timeout=0)
    assert [bool(u.message) for u in updates] == [True, True, False]

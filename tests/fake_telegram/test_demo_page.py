"""The demo page's view of the fakes (bot/sandbox/page.py), with a real aiogram Bot doing
what the bot does: formatted text, ForceReply, edits, chat actions, documents; and the
campaign fake's records and offline switch the page relies on."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from aiogram import Bot
from aiogram.enums import ChatAction, ParseMode
from aiogram.types import BufferedInputFile, ForceReply

from bot.sandbox.campaign_api import FakeCampaignApi
from bot.sandbox.examples import example_csv, example_xlsx
from bot.sandbox.page import ChatPage, DemoChat
from bot.sandbox.telegram import Chat, FakeTelegram, User

ANNA = User(id=1001, first_name="Анна")


@pytest.fixture
async def page(fake_telegram: FakeTelegram) -> AsyncIterator[httpx.AsyncClient]:
    campaigns = FakeCampaignApi()
    await campaigns.start()
    chat_page = ChatPage(fake_telegram, campaigns, [DemoChat(Chat.private(ANNA), "Анна", (ANNA,))])
    fake_telegram.add_chat(Chat.private(ANNA))
    url = await chat_page.start()
    try:
        async with httpx.AsyncClient(base_url=url, timeout=5) as client:
            client.campaigns = campaigns  # type: ignore[attr-defined]
            yield client
    finally:
        await chat_page.stop()
        await campaigns.stop()


async def _messages(page: httpx.AsyncClient) -> list[dict]:
    return (await page.get("/api/state", params={"chat": ANNA.id})).json()["messages"]


async def test_formatting_force_reply_edits_and_files_as_the_page_shows_them(
    page: httpx.AsyncClient, tg_bot: Bot
) -> None:
    sent = await page.post(
        "/api/send", json={"chat_id": ANNA.id, "user_id": ANNA.id, "text": "/new"}
    )
    assert sent.json() == {"ok": True, "delivered": True}
    question = await tg_bot.send_message(
        ANNA.id,
        "<b>Название</b> обзвона?",
        parse_mode=ParseMode.HTML,
        reply_markup=ForceReply(selective=True, input_field_placeholder="Название"),
    )
    user, bot = await _messages(page)
    assert (user["is_bot"], user["text"]) == (False, "/new")
    assert bot["is_bot"] and bot["text"] == "Название обзвона?"
    assert bot["entities"] == [{"type": "bold", "offset": 0, "length": 8}]
    assert (bot["force_reply"], bot["selective"], bot["placeholder"]) == (True, True, "Название")
    assert not bot["edited"]

    await tg_bot.edit_message_text("Новое", chat_id=ANNA.id, message_id=question.message_id)
    assert (await _messages(page))[-1]["edited"]

    report = await tg_bot.send_document(ANNA.id, BufferedInputFile(b"PK-report", "rejected.xlsx"))
    document = (await _messages(page))[-1]["document"]
    assert document["name"] == "rejected.xlsx" and document["size"] == 9
    download = await page.get(f"/api/file/{report.document.file_id}")
    assert download.content == b"PK-report"
    assert "rejected.xlsx" in download.headers["Content-Disposition"]
    assert (await page.get("/api/file/nope")).status_code == 404


async def test_typing_shows_until_the_bot_answers(page: httpx.AsyncClient, tg_bot: Bot) -> None:
    async def typing() -> str | None:
        return (await page.get("/api/state", params={"chat": ANNA.id})).json()["typing"]

    assert await typing() is None
    await tg_bot.send_chat_action(ANNA.id, ChatAction.UPLOAD_DOCUMENT)
    assert await typing() == "upload_document"
    await tg_bot.send_message(ANNA.id, "Готово")
    assert await typing() is None


async def test_an_upload_and_an_example_reach_the_bot_as_documents(
    page: httpx.AsyncClient, fake_telegram: FakeTelegram
) -> None:
    form = {"chat_id": str(ANNA.id), "user_id": str(ANNA.id)}
    sent = await page.post("/api/upload", data=form, files={"file": ("list.csv", b"+79161234567")})
    assert sent.json()["delivered"]
    sent = await page.post(
        "/api/example", json={"chat_id": ANNA.id, "user_id": ANNA.id, "name": "example.xlsx"}
    )
    assert sent.json()["delivered"]
    names = [u["message"]["document"]["file_name"] for u in fake_telegram.updates]
    assert names == ["list.csv", "example.xlsx"]
    # A user not in the chat is a 400 with the reason, not a crash.
    wrong = await page.post("/api/send", json={"chat_id": ANNA.id, "user_id": 7, "text": "x"})
    assert wrong.status_code == 400 and "not in chat" in wrong.json()["error"]


def test_the_example_lists_read_as_three_numbers_and_one_rejected() -> None:
    from bot.phones import ingest_bytes  # the bot's own reader

    for name, data in (("example.xlsx", example_xlsx()), ("example.csv", example_csv())):
        result = ingest_bytes(data, name)
        assert result.phones.phones == ["+79161234567", "+79161234568", "+79123456789"], name
        assert result.phones.add_data(0) == {"name": "Иванов Иван", "time": "10:00"}, name
        assert sum(result.rejected.values()) == 1 and len(result.rejected_rows) == 1, name


async def test_fault_modes_switch_the_campaign_fake(page: httpx.AsyncClient) -> None:
    campaigns: FakeCampaignApi = page.campaigns  # type: ignore[attr-defined]
    body = {"campaign": {}, "phones": []}
    async with httpx.AsyncClient(timeout=5) as api:
        assert (await page.post("/api/mode", json={"mode": "outage"})).json()["mode"] == "outage"
        with pytest.raises(httpx.ConnectError):
            await api.post(campaigns.base_url + "/campaigns", json=body)
        await page.post("/api/mode", json={"mode": "reject"})
        rejected = await api.post(campaigns.base_url + "/campaigns", json=body)
        assert rejected.status_code == 422
        await page.post("/api/mode", json={"mode": "normal"})
        invalid = await api.post(campaigns.base_url + "/campaigns", json=body)
        assert invalid.status_code == 422 and "phones" in invalid.json()["message"]
    shown = (await page.get("/api/state")).json()["api"]
    assert [r["status"] for r in shown] == [422, 422]
    assert shown[0]["response"]["message"].startswith("Проект закрыт")
    assert (await page.post("/api/mode", json={"mode": "boom"})).status_code == 400

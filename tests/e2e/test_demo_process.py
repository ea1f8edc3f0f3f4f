"""`python -m bot --demo` as a process, driven through its page's endpoints (what the page's
script calls): one URL printed, a group with two members and selective ForceReply, the
campaign API's fault switches, the example lists, and a clean stop of the whole group."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.sandbox.demo import ANNA, BORIS, GROUP
from bot.sandbox.page import REJECTION

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "bot" / "sandbox" / "static"
START_TIMEOUT = 30.0
STEP_TIMEOUT = 15.0
STOP_TIMEOUT = 15.0
PRIVATE = ANNA.id

pytestmark = pytest.mark.e2e


class Demo:
    def __init__(self, process: subprocess.Popen[bytes], url: str) -> None:
        self.process = process
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=STEP_TIMEOUT)

    def state(self, chat: int) -> dict[str, Any]:
        return self.http.get("/api/state", params={"chat": chat}).raise_for_status().json()

    def post(self, path: str, **body: Any) -> dict[str, Any]:
        return self.http.post(path, json=body).raise_for_status().json()

    def bot_messages(self, chat: int) -> list[dict[str, Any]]:
        return [m for m in self.state(chat)["messages"] if m["is_bot"]]

    def until(self, condition: Callable[[], Any], what: str) -> Any:
        deadline = time.monotonic() + STEP_TIMEOUT
        while time.monotonic() < deadline:
            if found := condition():
                return found
            time.sleep(0.05)
        pytest.fail(f"waited {STEP_TIMEOUT} s for {what}")

    def answered(self, chat: int, act: Callable[[], Any], what: str) -> dict[str, Any]:
        """Do `act`, wait until the bot's messages in the chat change; the newest one."""
        before = self.bot_messages(chat)
        act()
        self.until(lambda: self.bot_messages(chat) != before, f"the bot's answer to {what}")
        return self.bot_messages(chat)[-1]

    def say(self, chat: int, user: int, text: str, reply_to: int | None = None) -> dict:
        return self.answered(
            chat,
            lambda: self.post(
                "/api/send", chat_id=chat, user_id=user, text=text, reply_to=reply_to
            ),
            repr(text),
        )

    def press(self, chat: int, user: int, text: str) -> dict[str, Any]:
        message, button = self.button(chat, text)
        return self.post(
            "/api/press", chat_id=chat, user_id=user, message_id=message["id"], data=button["data"]
        )

    def button(self, chat: int, text: str) -> tuple[dict, dict]:
        def find() -> tuple[dict, dict] | None:
            for message in reversed(self.bot_messages(chat)):
                for row in message["buttons"]:
                    for button in row:
                        if text in button["text"]:
                            return message, button
            return None

        return self.until(find, f"a button «{text}»")

    def chat_text(self, chat: int) -> str:
        return "\n".join(m["text"] for m in self.bot_messages(chat))

    def to_summary(self, chat: int, user: int, example: str = "example.csv") -> None:
        self.say(chat, user, "/new")
        if chat == PRIVATE:
            self.say(chat, user, "Напоминание о платеже")
        for answer in ("Демо", "-", "завтра", "9-18", "3", "15"):
            self.say(chat, user, answer, reply_to=self._question(chat, user))
        self.answered(
            chat,
            lambda: self.post(
                "/api/example", chat_id=chat, user_id=user, name=example,
                reply_to=self._question(chat, user),
            ),
            example,
        )
        self.button(chat, "Создать")

    def _question(self, chat: int, user: int) -> int | None:
        """In a group the answer replies to the bot's question (privacy mode)."""
        if chat == PRIVATE:
            return None
        for message in reversed(self.bot_messages(chat)):
            if message["force_reply"] and message["reply_to"]["from"]["id"] == user:
                return message["id"]
        return None


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "CAMPAIGN_"))}
    env["PYTHONPATH"] = str(ROOT)
    # A .env that would break a bot reading it: the demo must not.
    (tmp_path / ".env").write_text("BOT_TOKEN=\nWEBHOOK_URL=https://example.org/hook\n")
    err = (tmp_path / "demo.err").open("w+b")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "--demo", "--port", "0"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=err,
        start_new_session=True,
    )
    demo = None
    try:
        assert process.stdout is not None
        os.set_blocking(process.stdout.fileno(), False)
        deadline = time.monotonic() + START_TIMEOUT
        out = b""
        while b"\n" not in out and time.monotonic() < deadline and process.poll() is None:
            out += process.stdout.read() or b""
            time.sleep(0.05)
        urls = re.findall(r"http://127\.0\.0\.1:\d+/", out.decode())
        assert len(urls) == 1, (out, err.name)
        demo = Demo(process, urls[0])
        demo.until(lambda: demo.state(PRIVATE), "the page")
        yield demo
    finally:
        if demo is not None:
            demo.http.close()
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        process.wait(STOP_TIMEOUT)
        err.close()


def test_a_group_of_two_with_selective_force_reply(demo: Demo) -> None:
    question = demo.say(GROUP.id, ANNA.id, "/new")
    # The group's preset scenario: the first question is the name, a reply to Анна.
    assert question["force_reply"] and question["selective"]
    assert question["reply_to"]["from"]["id"] == ANNA.id
    # Борис presses Анна's button: refused with a toast, her draft untouched.
    demo.post(
        "/api/send", chat_id=GROUP.id, user_id=BORIS.id, text="не команда и не ответ"
    )
    demo.say(GROUP.id, ANNA.id, "Группа", reply_to=question["id"])
    # The next question is asked with a selective ForceReply to Анна (its last message).
    demo.until(
        lambda: (m := demo.bot_messages(GROUP.id)[-1])["force_reply"]
        and m["reply_to"]["text"] == "Группа",
        "the next question, a reply to Анна",
    )
    message, button = demo.button(GROUP.id, "Пропустить")
    settled = demo.bot_messages(GROUP.id)
    answer = demo.post(
        "/api/press", chat_id=GROUP.id, user_id=BORIS.id, message_id=message["id"],
        data=button["data"],
    )
    toast = demo.until(
        lambda: [t for t in demo.state(GROUP.id)["toasts"] if t["id"] == answer["query_id"]],
        "the refusal toast for Борис",
    )
    assert toast[0]["text"]
    assert demo.bot_messages(GROUP.id) == settled  # her draft did not move
    # Борис's plain message was not for the bot (privacy mode): it is in the chat, unread.
    texts = [m["text"] for m in demo.state(GROUP.id)["messages"] if not m["is_bot"]]
    assert "не команда и не ответ" in texts
    # Борис may start his own draft in the team group (ALLOWED_CHAT_IDS).
    own = demo.say(GROUP.id, BORIS.id, "/new")
    assert own["reply_to"]["from"]["id"] == BORIS.id and own["force_reply"]


def test_fault_switches_change_what_the_api_does(demo: Demo) -> None:
    demo.to_summary(PRIVATE, ANNA.id)
    api = lambda: demo.state(PRIVATE)["api"]  # noqa: E731

    demo.post("/api/mode", mode="outage")
    demo.answered(PRIVATE, lambda: demo.press(PRIVATE, ANNA.id, "Создать"), "Создать")
    demo.until(lambda: "временно недоступен" in demo.chat_text(PRIVATE), "unreachable")
    assert api() == []  # refused connections: nothing reached the API

    demo.post("/api/mode", mode="reject")
    demo.answered(PRIVATE, lambda: demo.press(PRIVATE, ANNA.id, "Повторить"), "Повторить")
    demo.until(lambda: REJECTION["message"] in demo.chat_text(PRIVATE), "the rejection")
    assert [r["status"] for r in api()] == [422]
    assert api()[0]["response"] == REJECTION

    demo.post("/api/mode", mode="normal")
    # A rejection offers no «Повторить» (a setting retrying cannot fix); typed, it is sent.
    assert not any("Повторить" in b["text"] for m in demo.bot_messages(PRIVATE)[-1:]
                   for row in m["buttons"] for b in row)
    demo.say(PRIVATE, ANNA.id, "создать")
    def created_text() -> str | None:
        text = demo.chat_text(PRIVATE)
        return text if re.search(r"№\s*\d+", text) else None

    text = demo.until(created_text, "the campaign ID")
    created = api()[-1]
    assert created["status"] == 200
    assert f"№ {created['response']['campaign']['id']}" in text.replace("\xa0", " ")
    assert created["body"]["campaign"]["name"] == "Демо"
    assert created["phones_total"] == 3 and created["headers"]["Authorization"] == "•••"
    assert demo.state(PRIVATE)["mode"] == "normal"


def test_examples_download_and_the_page_needs_no_network(demo: Demo) -> None:
    for name, magic in (("example.xlsx", b"PK"), ("example.csv", "Телефон".encode())):
        response = demo.http.get(f"/examples/{name}")
        assert response.status_code == 200 and magic in response.content[:32]
    page = demo.http.get("/")
    assert page.status_code == 200 and "/static/app.js" in page.text
    for path in STATIC.iterdir():
        # No CDN, fonts or scripts from elsewhere: the page works offline.
        assert not re.search(r"(src|href)=[\"']?(https?:)?//", path.read_text("utf-8")), path
        assert demo.http.get(f"/static/{path.name}").status_code == 200


def test_sigterm_stops_the_whole_demo(demo: Demo) -> None:
    os.killpg(demo.process.pid, signal.SIGTERM)
    assert demo.process.wait(STOP_TIMEOUT) == 0
    with pytest.raises(httpx.TransportError):
        demo.http.get("/api/state")
    # No process of its group is left behind (the phone-reading workers die with it).
    def group_gone() -> bool:
        alive = subprocess.run(
            ["pgrep", "-g", str(demo.process.pid)], capture_output=True, text=True, check=False
        )
        return alive.stdout.strip() == ""

    demo.until(group_gone, "the demo's process group to be empty")

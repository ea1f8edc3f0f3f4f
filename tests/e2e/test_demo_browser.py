"""The README's first command, tried as a person would: `python -m bot --demo` in a fresh
folder (no .env), its one URL opened in headless Chromium, one whole campaign made in the
chat page, the summary screenshotted, the POST body and the campaign ID read off the page.

The wizard's screens change (step counters, quick picks, one live message per step), so the
walk types its answers (accepted at every step), finds buttons by their visible text and
waits on conditions with bounded timeouts, never on fixed sleeps.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tomllib
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRESETS = ROOT / "bot" / "sandbox" / "presets.toml"
START_TIMEOUT = 30.0
STEP_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0
CAMPAIGN_NAME = "Демо из браузера"

pytestmark = pytest.mark.e2e


def _find(*names: str) -> str | None:
    for name in names:
        if found := shutil.which(name):
            return found
    return None


CHROMIUM = _find("chromium", "chromium-browser", "google-chrome")
CHROMEDRIVER = _find("chromedriver")


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[str]:
    """`python -m bot --demo --port 0` in its own process group; yields the URL it prints."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "CAMPAIGN_", "REDIS"))
    }
    env["PYTHONPATH"] = str(ROOT)
    log = (tmp_path / "demo.log").open("w+b")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "--demo", "--port", "0"],
        cwd=tmp_path,  # a folder without .env, as on a fresh clone
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=log,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        url = _read_url(process, log)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(STOP_TIMEOUT)
        log.seek(0)
        stderr = log.read().decode(errors="replace")
        log.close()
        assert "Traceback" not in stderr, stderr


def _read_url(process: subprocess.Popen[bytes], log: Any) -> str:
    import selectors

    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(START_TIMEOUT):
            log.seek(0)
            pytest.fail(f"the demo printed no URL in {START_TIMEOUT} s: {log.read()!r}")
    line = process.stdout.readline().decode()
    urls = re.findall(r"http://127\.0\.0\.1:\d+/", line)
    assert len(urls) == 1, f"one URL expected in {line!r}"
    return urls[0]


@pytest.fixture
def browser() -> Iterator[Any]:
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip(
            "NO CHROMIUM: the browser test needs Debian's chromium and chromium-driver "
            "(apt-get install chromium chromium-driver; .ci/run installs them)"
        )
    webdriver = pytest.importorskip(
        "selenium.webdriver", reason="NO SELENIUM: pip install -e '.[test]' brings it"
    )
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--window-size=1440,1000",
        "--lang=ru-RU",
    ):
        options.add_argument(argument)
    # The driver's path given: Selenium Manager would try to download one.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(STEP_TIMEOUT)
    try:
        yield driver
    finally:
        driver.quit()


class Page:
    """The chat page as a person uses it, with bounded waits."""

    def __init__(self, driver: Any) -> None:
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver = driver
        self.wait = WebDriverWait(driver, STEP_TIMEOUT, poll_frequency=0.1)

    def state(self) -> dict[str, Any]:
        return self.driver.execute_script("return window.demo.state")

    def bot_signature(self) -> str:
        """What the bot shows in the open chat: a change means it has answered (a new
        message or an edit of a live one)."""
        return self.driver.execute_script(
            "const s = window.demo.state; return s ? JSON.stringify(s.messages"
            ".filter(m => m.is_bot).map(m => [m.id, m.text, m.buttons])) : ''"
        )

    def until(self, condition: Any, what: str) -> Any:
        return self.wait.until(lambda _: condition(), message=f"waited for {what}")

    def answered_after(self, action: Any, what: str) -> None:
        before = self.bot_signature()
        action()
        self.until(lambda: self.bot_signature() != before, f"the bot's answer to {what}")

    def type(self, text: str) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        box = self.driver.find_element(By.ID, "composer-text")
        self.answered_after(lambda: box.send_keys(text, Keys.ENTER), repr(text))

    def button(self, text: str) -> Any:
        """The latest inline button whose visible text contains `text`."""
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.common.by import By

        def find() -> Any:
            # The page re-renders while the bot still edits or deletes messages: an element
            # gone stale mid-look is looked for again.
            try:
                found = [
                    b
                    for b in self.driver.find_elements(By.CSS_SELECTOR, "#messages .kb-btn")
                    if text in b.text
                ]
            except StaleElementReferenceException:
                return None
            return found[-1] if found else None

        return self.until(find, f"a button «{text}»")

    def chat_text(self) -> str:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.ID, "messages").text


def test_a_whole_campaign_in_the_browser(demo: str, browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    browser.get(demo)
    page = Page(browser)
    page.until(lambda: "Анна" in browser.find_element(By.ID, "chat-title").text, "the chat")

    presets = tomllib.loads(PRESETS.read_text("utf-8"))
    page.answered_after(
        lambda: browser.find_element(By.CSS_SELECTOR, '[data-command="/new"]').click(), "/new"
    )
    if len(presets["scenarios"]) > 1:
        page.type(presets["scenarios"][0]["title"])
    if len(presets["callers"]) > 1:
        page.type(presets["callers"][0]["title"])
    for answer in (CAMPAIGN_NAME, "-", "завтра", "9-18", "3", "15"):
        page.type(answer)

    # The list, one click away; it has a bad row, so the rejected-rows file comes back.
    page.answered_after(
        lambda: browser.find_element(By.CSS_SELECTOR, '[data-example="example.xlsx"]').click(),
        "example.xlsx",
    )
    # The report comes first, then the summary below it (the live message moves down).
    page.until(lambda: "Проверьте обзвон" in page.chat_text(), "the summary")
    create = page.button("Создать")
    summary = page.chat_text()
    assert CAMPAIGN_NAME in summary
    shot = tmp_path / "demo-summary.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    print(f"summary screenshot: {shot}")

    # The bot's file downloads from the page, as in Telegram.
    links = [
        a.get_attribute("href")
        for a in browser.find_elements(By.CSS_SELECTOR, "#messages .msg.bot a.download")
    ]
    assert links, "the rejected-rows report is a file in the chat"
    with urllib.request.urlopen(links[-1], timeout=STEP_TIMEOUT) as response:
        assert response.read(2) == b"PK"  # an xlsx workbook

    create.click()
    # «✅ Обзвон № 12345 создан»: the card takes the summary's place.
    page.until(lambda: re.search(r"№\s*\d+", page.chat_text()), "the campaign ID in the chat")
    campaign_id = int(re.search(r"№\s*(\d+)", page.chat_text())[1])

    # The page shows what reached the campaign API, and the ID it answered.
    api = page.until(
        lambda: browser.find_element(By.ID, "api-status").text if "200" in
        browser.find_element(By.ID, "api-status").text else None,
        "the API request on the page",
    )
    assert "POST /api/campaigns" in api and f'"id":{campaign_id}' in api.replace(" ", "")
    shown = browser.find_element(By.ID, "api-body").text
    body = json.loads(shown[shown.index("{") : shown.rindex("}") + 1])
    assert body["campaign"]["name"] == CAMPAIGN_NAME
    assert body["campaign"]["project_id"] == presets["scenarios"][0]["project_id"]
    assert body["campaign"]["schedule"]["start_time"] == "09:00"
    assert body["campaign"]["schedule"]["attempts"] == {"id": 3, "title": "3"}
    phones = [p["phone"] for p in body["phones"]]
    assert phones == ["+79161234567", "+79161234568", "+79123456789"]
    assert body["phones"][0]["add_data"]["name"] == "Иванов Иван"
    browser.save_screenshot(str(tmp_path / "demo-created.png"))


def test_the_group_replies_by_force_reply_and_refuses_a_foreign_press(
    demo: str, browser: Any
) -> None:
    """In the group, privacy mode lets through only replies to the bot: the page opens the
    reply to the bot's selective ForceReply for the supervisor it asks, as Telegram does."""
    from selenium.webdriver.common.by import By

    browser.get(demo)
    page = Page(browser)
    page.until(lambda: browser.find_elements(By.CSS_SELECTOR, "#chat-list li"), "the chats")
    group = next(
        li for li in browser.find_elements(By.CSS_SELECTOR, "#chat-list li")
        if "Отдел обзвона" in li.text
    )
    group.click()
    page.until(lambda: "Отдел обзвона" in browser.find_element(By.ID, "chat-title").text,
               "the group")
    reply_bar = browser.find_element(By.ID, "reply-bar")
    page.answered_after(
        lambda: browser.find_element(By.CSS_SELECTOR, '[data-command="/new"]').click(), "/new"
    )
    page.until(reply_bar.is_displayed, "the reply to the bot's question, opened by itself")
    page.type("Группа из браузера")  # reaches the bot only as a reply: it answers
    assert "Группа из браузера" in page.chat_text()

    def writer(name: str) -> None:
        for button in browser.find_elements(By.CSS_SELECTOR, "#writer button"):
            if button.text == name:
                button.click()
                return
        raise AssertionError(f"no writer {name}")

    writer("Борис")
    page.until(lambda: not reply_bar.is_displayed(), "no reply for Борис (selective)")
    # Any button of Анна's question, pressed by Борис: that message must not change. (The
    # rest of the chat may: the bot's answer to Анна can still be arriving.)
    last_with_buttons = (
        "const ms = window.demo.state.messages.filter(m => m.is_bot && m.buttons.length);"
        "return ms[ms.length - 1].id;"
    )
    shown = "const m = window.demo.state.messages.find(m => m.id === arguments[0]);" \
        "return JSON.stringify([m.text, m.buttons]);"
    pressed_id = browser.execute_script(last_with_buttons)
    before = browser.execute_script(shown, pressed_id)
    button = browser.find_elements(By.CSS_SELECTOR, "#messages .msg.bot .kb-btn")[-1]
    # The page may have re-rendered between the two reads: press only that message's button.
    if browser.execute_script(last_with_buttons) != pressed_id:
        pressed_id = browser.execute_script(last_with_buttons)
        before = browser.execute_script(shown, pressed_id)
        button = browser.find_elements(By.CSS_SELECTOR, "#messages .msg.bot .kb-btn")[-1]
    button.click()
    toast = browser.find_element(By.ID, "toast")
    page.until(lambda: toast.is_displayed() and toast.text.strip(), "the refusal toast")
    assert browser.execute_script(shown, pressed_id) == before

    writer("Анна")
    page.until(reply_bar.is_displayed, "Анна's reply again")
    page.type("-")

"""ALLOWED_USER_IDS refuses Telegram's placeholder senders: each is shared by many people."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]
BASE = {
    "BOT_TOKEN": "123:abc",
    "CAMPAIGN_PROJECT_ID": "1",
    "CAMPAIGN_START_BLOCK_ID": "10",
    "CAMPAIGN_PHONE_ID": "5",
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in list(os.environ):
        if name.startswith(("CAMPAIGN_", "ALLOWED_", "WEBHOOK_", "REDIS_", "BOT_", "TELEGRAM_")):
            monkeypatch.delenv(name)
    for name, value in BASE.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


@pytest.mark.parametrize("shared", [1087968824, 136817688, 777000])
def test_a_placeholder_sender_is_refused(env: pytest.MonkeyPatch, shared: int) -> None:
    env.setenv("ALLOWED_USER_IDS", f"1001, {shared}")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert len(caught.value.lines) == 1
    line = caught.value.lines[0]
    assert line.startswith("ALLOWED_USER_IDS: ") and str(shared) in line


def test_all_of_them_in_one_line(env: pytest.MonkeyPatch) -> None:
    env.setenv("ALLOWED_USER_IDS", "1087968824,136817688,777000")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert len(caught.value.lines) == 1
    assert all(str(i) in caught.value.lines[0] for i in (1087968824, 136817688, 777000))


def test_chat_ids_are_not_affected(env: pytest.MonkeyPatch) -> None:
    env.setenv("ALLOWED_USER_IDS", "1001")
    env.setenv("ALLOWED_CHAT_IDS", "-1001234567890")
    settings = load_settings()
    assert settings.allowed_user_ids == [1001]


def test_python_m_bot_exits_2_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALLOWED_", "CAMPAIGN_"))}
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env={**env, **BASE, "ALLOWED_USER_IDS": "1087968824", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("configuration error: ALLOWED_USER_IDS: 1087968824 is ")
    assert "Traceback" not in result.stderr

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
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in list(os.environ):
        if name.startswith(("CAMPAIGN_", "ALLOWED_", "WEBHOOK_", "REDIS_", "BOT_", "TELEGRAM_")):
            monkeypatch.delenv(name)
    for name, value in BASE.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_defaults_and_lists(env: pytest.MonkeyPatch) -> None:
    env.setenv("ALLOWED_USER_IDS", "1, 2,3")
    settings = load_settings()
    assert settings.allowed_user_ids == [1, 2, 3]
    assert settings.allowed_chat_ids == []
    assert str(settings.campaign_api_url) == "https://ai-assistant.is74.ru/api"
    assert settings.timezone == "Asia/Yekaterinburg"
    assert settings.bot_token.get_secret_value() == "123:abc"
    assert "123:abc" not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("TIMEZONE", "Mars/Olympus", "TIMEZONE"),
        ("ALLOWED_CHAT_IDS", "-100x", "ALLOWED_CHAT_IDS"),
        ("CAMPAIGN_PHONE_ID", "five", "CAMPAIGN_PHONE_ID"),
        ("CAMPAIGN_API_URL", "not a url", "CAMPAIGN_API_URL"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL"),
    ],
)
def test_malformed_value_names_the_variable(
    env: pytest.MonkeyPatch, name: str, value: str, needle: str
) -> None:
    env.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert any(line.startswith(needle) for line in info.value.lines), info.value.lines


def test_webhook_needs_a_valid_secret(env: pytest.MonkeyPatch) -> None:
    env.setenv("WEBHOOK_URL", "https://bot.example.test/webhook")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert any("WEBHOOK_SECRET" in line for line in info.value.lines)
    env.setenv("WEBHOOK_SECRET", "has spaces!")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert info.value.lines[0].startswith("WEBHOOK_SECRET")
    env.setenv("WEBHOOK_SECRET", "s3cret_-token")
    assert load_settings().webhook_secret is not None


def test_campaign_ids_required_without_presets(env: pytest.MonkeyPatch) -> None:
    env.delenv("CAMPAIGN_PHONE_ID")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "CAMPAIGN_PHONE_ID" in info.value.lines[0]


def test_env_file_is_read(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.delenv("BOT_TOKEN")
    (tmp_path / ".env").write_text("BOT_TOKEN=999:fromfile\n")
    assert load_settings().bot_token.get_secret_value() == "999:fromfile"


def test_env_example_copied_as_is_loads(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Empty optional values in .env mean "unset", not an empty URL, token or path."""
    for name in BASE:
        env.delenv(name)
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text("utf-8"), "utf-8")
    # The example carries no token that could pass for one: the user must set it.
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert info.value.lines == [
        "BOT_TOKEN: is required but not set (a token from @BotFather;"
        " to try the bot without one: bash scripts/run.sh --demo)"
    ]
    env.setenv("BOT_TOKEN", "123456:from-botfather")
    settings = load_settings()
    assert settings.webhook_url is None and settings.webhook_secret is None
    assert settings.campaign_api_token is None and settings.telegram_api_url is None
    assert settings.presets_file is None and settings.redis_url is None


def test_python_m_bot_without_token_exits_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "BOT_TOKEN"}
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "BOT_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1

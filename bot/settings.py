"""Configuration from environment variables and an optional `.env`, validated at start."""

from __future__ import annotations

import re
import sys
import zoneinfo
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.calling.rules import CallingHours, CheckMode, UnknownRule, parse_span

IntList = Annotated[list[int], NoDecode]

# Telegram's placeholder senders, each shared by many people: GroupAnonymousBot (every
# anonymous group admin), Channel_Bot (anyone writing as a channel), the service account
# (linked-channel forwards). Allowing one lets all of them in.
SHARED_SENDER_IDS: dict[int, str] = {
    1087968824: "GroupAnonymousBot, shared by every anonymous group admin",
    136817688: "Channel_Bot, shared by everyone writing as a channel",
    777000: "Telegram's service account (linked-channel forwards)",
}


def _parse_int_list(value: object) -> object:
    """`ALLOWED_USER_IDS=1, 2,3` -> [1, 2, 3]; an empty value is an empty list."""
    if isinstance(value, str):
        parts = [p.strip() for p in value.replace(";", ",").split(",")]
        return [int(p) for p in parts if p]
    if isinstance(value, int):
        return [value]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        # `.env.example` copied as is leaves optional values empty: empty means unset.
        env_ignore_empty=True,
        extra="ignore",
        case_sensitive=False,
    )

    bot_token: SecretStr
    telegram_api_url: AnyHttpUrl | None = None

    campaign_api_url: AnyHttpUrl = AnyHttpUrl("https://ai-assistant.is74.ru/api")
    campaign_api_token: SecretStr | None = None
    campaign_api_auth_header: str = "Authorization"
    campaign_api_auth_scheme: str = "Bearer"
    campaign_api_connect_timeout: float = Field(5.0, gt=0)
    campaign_api_read_timeout: float = Field(60.0, gt=0)
    campaign_api_write_timeout: float = Field(30.0, gt=0)
    campaign_api_pool_timeout: float = Field(5.0, gt=0)
    campaign_api_connect_retries: int = Field(3, ge=0, le=10)
    campaign_state: str = "Создано"

    campaign_project_id: int | None = Field(None, gt=0)
    campaign_start_block_id: int | None = Field(None, gt=0)
    campaign_phone_id: int | None = Field(None, gt=0)
    default_interval_minutes: int = Field(5, ge=0, le=1440)
    presets_file: Path | None = None

    allowed_user_ids: IntList = Field(default_factory=list)
    allowed_chat_ids: IntList = Field(default_factory=list)

    timezone: str = "Asia/Yekaterinburg"
    default_locale: str = "ru"

    redis_url: str | None = None
    # Key of the HMAC that signs drafts and lists in Redis; empty = derived from BOT_TOKEN.
    storage_hmac_key: SecretStr | None = None
    # Keys are "<prefix>:..."; bots (or test runs) sharing one Redis need prefixes of their own.
    redis_key_prefix: str = Field("campaign-bot", min_length=1)
    draft_ttl_hours: float = Field(24.0, gt=0)

    # Campaign history: in Redis with REDIS_URL, else in this SQLite file (relative paths
    # are under the working folder).
    history_file: Path = Path("history.sqlite3")
    history_retention_days: float = Field(90.0, gt=0)
    # A group's /new hands the wizard over to a private chat by a link valid this long.
    handoff_ttl_minutes: float = Field(15.0, gt=0, le=24 * 60)
    # /new in a group: "private" hands the wizard over to the user's private chat (the
    # list never reaches the group); "group" keeps it in the group (per chat: presets).
    group_wizard: Literal["private", "group"] = "private"
    # Telegram lets a bot post about 20 messages a minute in one group; more are queued.
    group_messages_per_minute: int = Field(20, gt=0, le=20)

    webhook_url: AnyHttpUrl | None = None
    webhook_secret: SecretStr | None = None
    webhook_host: str = "0.0.0.0"
    webhook_port: int = Field(8080, gt=0, lt=65536)
    # Empty = the path of WEBHOOK_URL; set it only when a proxy rewrites the path.
    webhook_path: str | None = None

    max_file_mb: float = Field(20.0, gt=0)
    max_rows: int = Field(1_000_000, gt=0)
    max_columns: int = Field(200, gt=0)
    max_cell_chars: int = Field(1000, gt=0)

    log_level: str = "INFO"

    # Local calling hours (bot/calling). The registry files (DEF-9xx.csv, ABC-*.csv) the
    # bot reads zones of numbers from; `python -m bot.calling.update` fetches them.
    numbering_plan_dir: Path | None = None
    # 230-FZ's hours for debt collection, in each number's local time.
    calling_hours_workday: str = "08:00-22:00"
    calling_hours_holiday: str = "09:00-20:00"
    # A `holidays` country code for the production calendar; "none" = Sat/Sun only.
    calling_calendar: str = "RU"
    # off | warn | strict (refuse to create outside the hours); a scenario can override.
    calling_hours_check: CheckMode = CheckMode.WARN
    # centre (judged as the call centre's zone, with a warning) | exclude (out of splits).
    calling_unknown_zone: UnknownRule = UnknownRule.CENTRE

    @field_validator("allowed_user_ids", "allowed_chat_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        return _parse_int_list(value)

    @field_validator("allowed_user_ids")
    @classmethod
    def _refuse_shared_senders(cls, value: list[int]) -> list[int]:
        shared = [f"{uid} is {SHARED_SENDER_IDS[uid]}, not one person" for uid in value
                  if uid in SHARED_SENDER_IDS]
        if shared:
            raise ValueError("; ".join(shared) + ("; remove them" if len(shared) > 1 else
                                                  "; remove it"))
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("calling_hours_workday", "calling_hours_holiday")
    @classmethod
    def _check_span(cls, value: str) -> str:
        try:
            parse_span(value)
        except ValueError as exc:
            raise ValueError("expected HH:MM-HH:MM, e.g. 08:00-22:00") from exc
        return value

    @field_validator("calling_calendar")
    @classmethod
    def _check_calendar(cls, value: str) -> str:
        code = value.strip().upper()
        if code in ("", "NONE"):
            return ""
        import holidays

        if code not in holidays.list_supported_countries():
            raise ValueError(f"unknown country {value!r} for the production calendar")
        return code

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in {"CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"}:
            raise ValueError("expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("default_locale")
    @classmethod
    def _check_locale(cls, value: str) -> str:
        if value not in {"ru", "en"}:
            raise ValueError("expected 'ru' or 'en'")
        return value

    @field_validator("presets_file")
    @classmethod
    def _check_presets_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"file {str(value)!r} does not exist")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _check_webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram's own rule for secret_token.
        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()
        ):
            raise ValueError("1-256 characters: letters, digits, _ and -")
        return value

    @field_validator("webhook_path")
    @classmethod
    def _check_webhook_path(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            raise ValueError("must start with /, e.g. /webhook")
        return value

    @field_validator("storage_hmac_key")
    @classmethod
    def _check_hmac_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("at least 16 characters (a random string, e.g. 32 hex digits)")
        return value

    @model_validator(mode="after")
    def _check_webhook(self) -> Settings:
        if self.webhook_url is not None and self.webhook_secret is None:
            raise ValueError("WEBHOOK_SECRET is required when WEBHOOK_URL is set")
        return self

    @model_validator(mode="after")
    def _check_campaign_ids(self) -> Settings:
        if self.presets_file is None:
            missing = [
                name
                for name in ("campaign_project_id", "campaign_start_block_id", "campaign_phone_id")
                if getattr(self, name) is None
            ]
            if missing:
                raise ValueError(
                    "required unless PRESETS_FILE is set: "
                    + ", ".join(name.upper() for name in missing)
                )
        return self

    @property
    def webhook_listen_path(self) -> str:
        """Where the server takes updates: WEBHOOK_PATH if set, else WEBHOOK_URL's own path,
        so that the URL registered with Telegram and the route served agree by default."""
        if self.webhook_path:
            return self.webhook_path
        if self.webhook_url is not None and self.webhook_url.path:
            return self.webhook_url.path
        return "/webhook"

    @property
    def healthz_path(self) -> str:
        return healthz_path(self.webhook_listen_path)

    @property
    def calling_hours(self) -> CallingHours:
        return CallingHours(
            workday=parse_span(self.calling_hours_workday),
            holiday=parse_span(self.calling_hours_holiday),
            calendar=self.calling_calendar,
        )

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

    @property
    def history_retention_seconds(self) -> float:
        return self.history_retention_days * 86400

    @property
    def handoff_ttl_seconds(self) -> int:
        return max(1, round(self.handoff_ttl_minutes * 60))

    @property
    def draft_ttl_seconds(self) -> int:
        # Rounded, not truncated, and at least 1 s: 1/3600 h is 0.99999... s in binary
        # floats, and Redis refuses an expiry of 0.
        return max(1, round(self.draft_ttl_hours * 3600))


def healthz_path(listen_path: str) -> str:
    """The health check's path, beside the webhook's: /tg/webhook -> /tg/healthz, so that a
    proxy forwarding only /tg/... reaches it too (the server also answers /healthz)."""
    parent = listen_path.rsplit("/", 1)[0]
    return f"{parent}/healthz"


class SettingsError(Exception):
    """The configuration is unusable; `lines` name each problem and its variable."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


# Who has no token yet (a first try, a fresh clone) is pointed at the demo.
MISSING_TOKEN_HINT = (
    " (a token from @BotFather; to try the bot without one: bash scripts/run.sh --demo)"
)


def describe_validation_error(exc: ValidationError) -> list[str]:
    lines = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ()) if not isinstance(part, int)]
        variable = loc[0].upper() if loc else ""
        message = error.get("msg", "invalid value").removeprefix("Value error, ")
        if error.get("type") == "missing":
            message = "is required but not set"
            if variable == "BOT_TOKEN":
                message += MISSING_TOKEN_HINT
        if variable:
            lines.append(f"{variable}: {message}")
        else:
            lines.append(message)
    return lines


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None


def load_settings_or_exit(**overrides: object) -> Settings:
    """Load settings; on a problem print one line per problem and exit with status 2."""
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        for line in exc.lines:
            print(f"configuration error: {line}", file=sys.stderr)
        raise SystemExit(2) from None

"""FakeTelegram: an in-process Bot API server (aiohttp on 127.0.0.1) plus a test-side API.

The bot talks to it over real HTTP exactly as to api.telegram.org (``{base}/bot{token}/{m}``
and ``{base}/file/bot{token}/{path}``), so the unmodified polling loop can run against it.
Everything runs on one event loop: the sync "user" methods (send_text, press_button, ...)
must be called from that loop's thread.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import itertools
import json
import math
import mimetypes
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from .entities import EntityParseError, bot_command_entities, parse_text
from .models import BotMessage, Chat, Recorded, StoredFile, UploadedFile, User

Params = dict[str, Any]
Files = dict[str, UploadedFile]
Handler = Callable[[Params, Files], Awaitable[Any]]

MB = 1024 * 1024

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
CONFLICT_OTHER_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)

# Telegram's default when allowed_updates is empty/never set.
_NOT_DEFAULT_UPDATES = {"chat_member", "message_reaction", "message_reaction_count"}
# Messages of these kinds are always delivered to group bots, privacy mode or not.
_SERVICE_KEYS = {
    "new_chat_members",
    "left_chat_member",
    "new_chat_title",
    "new_chat_photo",
    "delete_chat_photo",
    "group_chat_created",
    "supergroup_chat_created",
    "migrate_to_chat_id",
    "migrate_from_chat_id",
    "pinned_message",
}
# Form fields that are plain strings; the rest are JSON-decoded (aiogram JSON-encodes
# ints, bools, lists and objects) so recorded params have their natural types.
_STRING_FIELDS = {
    "text",
    "caption",
    "parse_mode",
    "callback_query_id",
    "url",
    "description",
    "short_description",
    "name",
    "action",
    "language_code",
    "file_id",
    "inline_message_id",
    "secret_token",
    "emoji",
    "title",
    "business_connection_id",
    "message_effect_id",
}
_CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
_INLINE_ACTIONS = {
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
}
_ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_send_welcome_messages",
)
_RESTRICTED_RIGHTS = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_react_to_messages",
    "can_edit_tag",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
)
_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")


class ApiError(Exception):
    """A Bot API error response; raised inside method handlers."""

    def __init__(self, code: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            data["parameters"] = self.parameters
        return data


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass
class _Fault:
    error_code: int
    description: str
    parameters: dict | None
    times: int


@dataclass
class _CallbackQuery:
    id: str
    chat_id: int
    message_id: int
    user: User
    data: str
    created: float
    answer: dict | None = None


class FakeTelegram:
    MAX_TEXT = 4096
    MAX_CAPTION = 1024
    MAX_CALLBACK_DATA = 64
    MAX_CALLBACK_ANSWER = 200
    MAX_DOWNLOAD = 20 * MB  # getFile limit of the cloud Bot API
    MAX_UPLOAD = 50 * MB
    MAX_POLL_TIMEOUT = 50.0
    CALLBACK_ANSWER_TIMEOUT = 15.0

    def __init__(
        self,
        token: str = "123456:TEST",
        bot_username: str = "campaign_test_bot",
        bot_id: int = 123456,
        *,
        privacy_mode: bool = True,
        bot_first_name: str = "Campaign Test Bot",
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_id = bot_id
        self.bot_first_name = bot_first_name
        self.privacy_mode = privacy_mode
        self.base_url = ""

        # Observable state.
        self.requests: list[Recorded] = []
        self.updates: list[dict] = []  # every update queued for the bot, in order
        self.dropped: list[dict] = []  # messages privacy mode kept from the bot
        self.callback_answers: list[dict] = []
        self.commands: dict[tuple[str, str], list[dict]] = {}  # (scope JSON, lang) -> list
        self.bot_info: dict[str, str] = {}  # setMyName / setMyDescription / ...
        self.webhook_url = ""
        # Webhook delivery, off unless asked for (deliver_webhooks): every queued update is
        # POSTed to `webhook_target or webhook_url` with the secret header and retried, as
        # Telegram does, until a 2xx answer. Each attempt: {update_id, status, time}.
        self.deliver_webhooks = False
        self.webhook_target: str | None = None
        self.webhook_secret = ""
        self.webhook_attempts: list[dict] = []
        self.WEBHOOK_TIMEOUT = 60.0  # Telegram's wait for an answer
        self._deliveries: set[asyncio.Task[None]] = set()
        self._delivering: set[int] = set()  # update ids queued for delivery
        self._chat_queues: dict[int, list[dict]] = {}
        self._chat_workers: dict[int, asyncio.Task[None]] = {}
        self._webhook_http: aiohttp.ClientSession | None = None

        self._queue: list[dict] = []
        self._allowed_updates: list[str] | None = None
        self._chats: dict[int, Chat] = {}
        self._blocked: set[int] = set()
        self._messages: dict[int, dict[int, dict]] = {}  # chat -> id -> Message as Telegram has it
        self._bot_messages: dict[int, dict[int, BotMessage]] = {}
        self._message_ids: dict[int, itertools.count] = {}
        self._update_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._query_ids = itertools.count(4_000_000_000_000_000_001)
        self._files: dict[str, StoredFile] = {}
        self._file_paths: dict[str, StoredFile] = {}
        self._callbacks: dict[str, _CallbackQuery] = {}
        self._faults: dict[str, list[_Fault]] = {}
        self._waiters: set[asyncio.Future[None]] = set()
        self._poll_generation = 0
        self._time_shift = 0.0
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._users: dict[int, User] = {}
        self._members: dict[tuple[int, int], str] = {}  # (chat, user) -> ChatMember status
        self._restricted_left: dict[tuple[int, int], bool] = {}  # restricted, is_member False
        self._rate_limit: tuple[int, float, set[str], bool] | None = None
        self._rate_calls: dict[Any, list[float]] = {}

        self._methods: dict[str, Handler] = {
            name.lower(): handler
            for name, handler in {
                "getMe": self._get_me,
                "logOut": self._true,
                "close": self._true,
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "editMessageCaption": self._edit_message_caption,
                "deleteMessage": self._delete_message,
                "deleteMessages": self._delete_messages,
                "answerCallbackQuery": self._answer_callback_query,
                "sendDocument": self._send_document,
                "sendChatAction": self._send_chat_action,
                "getFile": self._get_file,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "setMyName": self._set_bot_info("name"),
                "getMyName": self._get_bot_info("name"),
                "setMyDescription": self._set_bot_info("description"),
                "getMyDescription": self._get_bot_info("description"),
                "setMyShortDescription": self._set_bot_info("short_description"),
                "getMyShortDescription": self._get_bot_info("short_description"),
                "getChat": self._get_chat,
                "getChatMember": self._get_chat_member,
            }.items()
        }

    # ------------------------------------------------------------------ lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        # Uploads up to Telegram's 50 MB pass aiohttp so the fake can answer like Telegram.
        app = web.Application(client_max_size=self.MAX_UPLOAD + MB)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._closing = False
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self.base_url = f"http://{bound_host}:{bound_port}"

    async def stop(self) -> None:
        # Release long polls first, or aiohttp waits for them on shutdown.
        self._closing = True
        self._notify()
        for task in list(self._deliveries):
            task.cancel()
        if self._deliveries:
            await asyncio.wait(self._deliveries, timeout=5)
        if self._webhook_http is not None:
            await self._webhook_http.close()
            self._webhook_http = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def env(self) -> dict[str, str]:
        """Environment for ``python -m bot`` pointed at this fake."""
        return {"BOT_TOKEN": self.token, "TELEGRAM_API_URL": self.base_url}

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/bot{self.token}"

    @property
    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # ------------------------------------------------------------ simulated users

    def add_chat(self, chat: Chat) -> Chat:
        """Make a chat known (as if the user had started the bot) without a message."""
        self._chats[chat.id] = chat
        return chat

    def set_member(
        self, chat: Chat, user: User, status: str = "member", *, is_member: bool = True
    ) -> None:
        """Group membership for getChatMember: creator, administrator, member, restricted,
        left or kicked. Users who write in a group become members automatically.
        ``is_member`` matters for "restricted" only: False is a restricted user who left."""
        self.add_chat(chat)
        self._users[user.id] = user
        self._members[(chat.id, user.id)] = status
        if status == "restricted":
            self._restricted_left[(chat.id, user.id)] = not is_member
        else:
            self._restricted_left.pop((chat.id, user.id), None)

    def change_member(
        self, chat: Chat, user: User, status: str, *, is_member: bool = True
    ) -> dict:
        """The member's status changes (set_member) and the bot gets a chat_member update,
        as an administrator bot does. Returns the queued update."""
        key = (chat.id, user.id)
        old = self._member_object(
            self._members.get(key, "left"), user, is_member=not self._restricted_left.get(key)
        )
        self.set_member(chat, user, status, is_member=is_member)
        update = {
            "chat_member": {
                "chat": chat.to_dict(),
                "from": user.to_dict(),
                "date": self._now_int(),
                "old_chat_member": old,
                "new_chat_member": self._member_object(status, user, is_member=is_member),
            }
        }
        return self._enqueue(update)

    def block_bot(self, user: User | int) -> None:
        self._blocked.add(user if isinstance(user, int) else user.id)

    def unblock_bot(self, user: User | int) -> None:
        self._blocked.discard(user if isinstance(user, int) else user.id)

    def advance_time(self, seconds: float) -> None:
        """Move the fake's clock (message dates, callback query expiry)."""
        self._time_shift += seconds

    def send_text(self, chat: Chat, user: User, text: str, *, reply_to: int | None = None) -> dict:
        fields: dict[str, Any] = {"text": text}
        entities = bot_command_entities(text)
        if entities:
            fields["entities"] = entities
        return self.send_message(chat, user, fields, reply_to=reply_to)

    def send_document(
        self,
        chat: Chat,
        user: User,
        data: bytes,
        filename: str,
        mime_type: str | None = None,
        *,
        reply_to: int | None = None,
        caption: str | None = None,
    ) -> dict:
        mime = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        stored = self.store_file(data, filename=filename, mime_type=mime)
        fields: dict[str, Any] = {
            "document": {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_name": filename,
                "mime_type": mime,
                "file_size": stored.size,
            }
        }
        self._add_caption(fields, caption)
        return self.send_message(chat, user, fields, reply_to=reply_to)

    def send_photo(
        self,
        chat: Chat,
        user: User,
        data: bytes = b"\x89PNG\r\n\x1a\nfake",
        *,
        width: int = 1280,
        height: int = 960,
        caption: str | None = None,
        reply_to: int | None = None,
    ) -> dict:
        thumb = self.store_file(data[:64], mime_type="image/jpeg")
        full = self.store_file(data, mime_type="image/jpeg")
        fields: dict[str, Any] = {
            "photo": [
                {
                    "file_id": thumb.file_id,
                    "file_unique_id": thumb.file_unique_id,
                    "width": 90,
                    "height": 90 * height // max(width, 1),
                    "file_size": thumb.size,
                },
                {
                    "file_id": full.file_id,
                    "file_unique_id": full.file_unique_id,
                    "width": width,
                    "height": height,
                    "file_size": full.size,
                },
            ]
        }
        self._add_caption(fields, caption)
        return self.send_message(chat, user, fields, reply_to=reply_to)

    def send_voice(
        self,
        chat: Chat,
        user: User,
        data: bytes = b"OggS\x00fake",
        *,
        duration: int = 2,
        reply_to: int | None = None,
    ) -> dict:
        stored = self.store_file(data, mime_type="audio/ogg")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": stored.size,
        }
        return self.send_message(chat, user, {"voice": voice}, reply_to=reply_to)

    def send_sticker(
        self, chat: Chat, user: User, emoji: str = "👍", *, reply_to: int | None = None
    ) -> dict:
        stored = self.store_file(b"RIFFfakeWEBP", mime_type="image/webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": stored.size,
        }
        return self.send_message(chat, user, {"sticker": sticker}, reply_to=reply_to)

    def send_message(
        self, chat: Chat, user: User, fields: dict[str, Any], *, reply_to: int | None = None
    ) -> dict:
        """Any user message: ``fields`` are merged into the Message (contact, location, ...).

        Returns the Update queued for the bot, or ``{"message": ...}`` without an
        update_id if privacy mode dropped it (it is then in ``self.dropped``)."""
        self.add_chat(chat)
        self._users[user.id] = user
        if chat.is_group:
            self._members.setdefault((chat.id, user.id), "member")
        target = None
        if reply_to is not None:
            target = self._messages.get(chat.id, {}).get(reply_to)
            if target is None:
                raise LookupError(f"no message {reply_to} in chat {chat.id} to reply to")
        message = self._new_message(chat, user.to_dict(), target)
        message.update(copy.deepcopy(fields))
        update = {"message": message}
        if self._bot_sees(chat, message):
            return self._enqueue(update)
        self.dropped.append(update)
        self._notify()
        return update

    def press_button(
        self, chat: Chat, user: User, message_id: int, data: str, *, strict: bool = False
    ) -> dict:
        """A callback_query on a bot message. Telegram delivers presses on stale keyboards
        too, so by default ``data`` need not be on the current keyboard (``strict`` checks)."""
        bot_message = self._bot_messages.get(chat.id, {}).get(message_id)
        if bot_message is None or bot_message.deleted:
            raise LookupError(f"the bot has no message {message_id} in chat {chat.id}")
        if strict and data not in [b.get("callback_data") for b in bot_message.buttons]:
            raise LookupError(f"message {message_id} has no button with data {data!r}")
        query_id = str(next(self._query_ids))
        self._callbacks[query_id] = _CallbackQuery(
            id=query_id,
            chat_id=chat.id,
            message_id=message_id,
            user=user,
            data=data,
            created=self.now(),
        )
        query = {
            "id": query_id,
            "from": user.to_dict(),
            "message": copy.deepcopy(self._messages[chat.id][message_id]),
            "chat_instance": str(abs(hash(("chat_instance", chat.id))) % 10**18),
            "data": data,
        }
        return self._enqueue({"callback_query": query})

    def press(self, chat: Chat, user: User, message_id: int, button_text: str) -> dict:
        """Press the current inline button labelled ``button_text``."""
        bot_message = self.message(chat.id, message_id)
        return self.press_button(chat, user, message_id, bot_message.callback_data(button_text))

    def fail_next(
        self,
        method: str,
        *,
        error_code: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with an error instead of handling them."""
        parameters = None
        if error_code == 429:
            retry_after = 1 if retry_after is None else retry_after
            description = description or f"Too Many Requests: retry after {retry_after}"
        if retry_after is not None:
            parameters = {"retry_after": retry_after}
        if description is None:
            description = {
                400: "Bad Request",
                401: "Unauthorized",
                403: "Forbidden: bot was blocked by the user",
                404: "Not Found",
                409: CONFLICT_OTHER_POLL,
                500: "Internal Server Error",
                502: "Bad Gateway",
            }.get(error_code, "Error")
        fault = _Fault(error_code, description, parameters, times)
        self._faults.setdefault(method.lower(), []).append(fault)

    def set_rate_limit(
        self,
        max_calls: int,
        per_seconds: float = 1.0,
        *,
        methods: tuple[str, ...] = ("sendMessage", "sendDocument", "editMessageText"),
        per_chat: bool = True,
    ) -> None:
        """Answer 429 with retry_after once more than ``max_calls`` of ``methods`` hit one
        chat (or the whole bot, if not ``per_chat``) within ``per_seconds`` of the fake clock.
        Telegram's own limits are roughly 1/s per chat, 20/min per group, 30/s overall."""
        self._rate_limit = (max_calls, per_seconds, {m.lower() for m in methods}, per_chat)
        self._rate_calls.clear()

    def clear_rate_limit(self) -> None:
        self._rate_limit = None
        self._rate_calls.clear()

    def store_file(
        self, data: bytes, *, filename: str | None = None, mime_type: str | None = None
    ) -> StoredFile:
        n = next(self._file_ids)
        digest = hashlib.sha256(data).hexdigest()
        stored = StoredFile(
            # Telegram's ids are opaque base64-ish strings; tests must not parse them.
            file_id=base64.urlsafe_b64encode(f"file-{n}-{digest[:16]}".encode()).decode(),
            file_unique_id=f"AgAD{digest[:12]}{n}",
            data=data,
            filename=filename,
            mime_type=mime_type,
        )
        self._files[stored.file_id] = stored
        return stored

    # ------------------------------------------------------------------ observing

    def now(self) -> float:
        return time.time() + self._time_shift

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[BotMessage]:
        """Messages the bot sent to ``chat_id``, oldest first, in their current state."""
        found = sorted(self._bot_messages.get(chat_id, {}).values(), key=lambda m: m.message_id)
        return [m for m in found if include_deleted or not m.deleted]

    def last_message(self, chat_id: int) -> BotMessage | None:
        found = self.messages(chat_id)
        return found[-1] if found else None

    def message(self, chat_id: int, message_id: int) -> BotMessage:
        try:
            return self._bot_messages[chat_id][message_id]
        except KeyError:
            raise LookupError(f"the bot sent no message {message_id} to {chat_id}") from None

    def timeline(self, chat_id: int) -> list[dict]:
        """Every message of the chat, the users' and the bot's, oldest first, as Telegram
        holds it now (edits applied, deleted ones gone): what a chat window shows. A bot
        message carries its whole reply markup (ForceReply and reply keyboards too, which
        Telegram's Message object leaves out) under ``"markup"``."""
        found = []
        for message_id, message in sorted(self._messages.get(chat_id, {}).items()):
            item = copy.deepcopy(message)
            bot_message = self._bot_messages.get(chat_id, {}).get(message_id)
            if bot_message is not None:
                item["markup"] = copy.deepcopy(bot_message.reply_markup)
            found.append(item)
        return found

    def stored_file(self, file_id: str) -> StoredFile:
        """A file the bot sent or a user uploaded, by its file_id."""
        try:
            return self._files[file_id]
        except KeyError:
            raise LookupError(f"no file {file_id!r}") from None

    def calls(self, method: str) -> list[Recorded]:
        return [r for r in self.requests if r.method.lower() == method.lower()]

    def commands_for(self, scope: dict | None = None, language_code: str = "") -> list[dict]:
        return self.commands.get((_scope_key(scope), language_code), [])

    def callback_answer(self, query_id: str) -> dict | None:
        query = self._callbacks.get(query_id)
        return query.answer if query else None

    @property
    def pending_updates(self) -> list[dict]:
        """Queued updates the bot has not confirmed with a getUpdates offset yet."""
        return list(self._queue)

    # A timeout argument (not asyncio.timeout) keeps every test wait bounded by default.
    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:  # noqa: ASYNC109
        """Wait until ``predicate()`` is truthy (re-checked on every request and update)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = [
                    f"{r.method}{'' if r.ok is None else (' ok' if r.ok else ' ' + str(r.error))}"
                    for r in self.requests[-8:]
                ]
                raise TimeoutError(f"condition not met in {timeout}s; last requests: {recent}")
            await self._wait_change(remaining)

    async def wait_for_message(
        self,
        chat_id: int,
        predicate: Callable[[BotMessage], Any] | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> BotMessage:
        """The newest bot message in the chat that matches ``predicate`` (any, if None)."""

        def find() -> BotMessage | None:
            for message in reversed(self.messages(chat_id)):
                if predicate is None or predicate(message):
                    return message
            return None

        return await self.wait_for(find, timeout)

    async def wait_for_request(
        self,
        method: str,
        predicate: Callable[[Recorded], Any] | None = None,
        *,
        count: int = 1,
        answered: bool = True,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> Recorded:
        """The ``count``-th call of ``method`` matching ``predicate``; with ``answered`` only
        calls the fake has already responded to count (a long poll is answered late)."""

        def find() -> Recorded | None:
            done = [
                r
                for r in self.calls(method)
                if (r.response is not None or not answered) and (predicate is None or predicate(r))
            ]
            return done[count - 1] if len(done) >= count else None

        return await self.wait_for(find, timeout)

    async def wait_polling(self, timeout: float = 5.0) -> Recorded:  # noqa: ASYNC109
        """Wait until the bot holds a getUpdates long poll open, i.e. its loop is running."""

        def find() -> Recorded | None:
            pending = [r for r in self.calls("getUpdates") if r.response is None]
            return pending[-1] if pending else None

        return await self.wait_for(find, timeout)

    async def wait_confirmed(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until the bot has fetched and confirmed (by offset) every queued update."""
        await self.wait_for(lambda: not self._queue, timeout)

    # -------------------------------------------------------------- internals

    def _notify(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def _wait_change(self, seconds: float) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter, seconds)
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(waiter)

    def _enqueue(self, update: dict) -> dict:
        update = {"update_id": next(self._update_ids), **update}
        self._queue.append(update)
        self.updates.append(update)
        self._notify()
        if self.deliver_webhooks and self.webhook_url:
            self._start_delivery(update)
        return update

    def _start_delivery(self, update: dict) -> None:
        # Telegram sends a chat's updates one at a time, in order: the next only once the
        # previous one is acknowledged; different chats are delivered concurrently.
        chat_id = _update_chat_id(update)
        self._delivering.add(update["update_id"])
        self._chat_queues.setdefault(chat_id, []).append(update)
        if chat_id in self._chat_workers:
            return
        task = asyncio.get_running_loop().create_task(self._deliver_chat(chat_id))
        self._chat_workers[chat_id] = task
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def _deliver_chat(self, chat_id: int) -> None:
        queue = self._chat_queues[chat_id]
        try:
            while queue and not self._closing:
                update = queue[0]
                await self._deliver(update)
                queue.pop(0)
                self._delivering.discard(update["update_id"])
        finally:
            self._chat_workers.pop(chat_id, None)

    async def _deliver(self, update: dict) -> None:
        """POST one update until it is acknowledged (2xx); a failed attempt (refused,
        reset, timeout, non-2xx) is retried after a short, growing pause."""
        if self._webhook_http is None:
            self._webhook_http = aiohttp.ClientSession()
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret}
        delay = 0.2
        while not self._closing:
            url = self.webhook_target or self.webhook_url
            status: int | str
            try:
                async with self._webhook_http.post(
                    url, json=update, headers=headers,
                    timeout=aiohttp.ClientTimeout(total=self.WEBHOOK_TIMEOUT),
                ) as response:
                    await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError) as error:
                status = type(error).__name__
            self.webhook_attempts.append(
                {"update_id": update["update_id"], "status": status, "time": self.now()}
            )
            if isinstance(status, int) and 200 <= status < 300:
                if update in self._queue:
                    self._queue.remove(update)
                self._notify()
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    def _bot_sees(self, chat: Chat, message: dict) -> bool:
        # Privacy mode (https://core.telegram.org/bots/features#privacy-mode): in groups the
        # bot gets commands meant for it, replies to its messages and service messages.
        if not self.privacy_mode or not chat.is_group:
            return True
        if _SERVICE_KEYS & message.keys():
            return True
        reply = message.get("reply_to_message")
        if reply and reply.get("from", {}).get("id") == self.bot_id:
            return True
        text = message.get("text") or message.get("caption") or ""
        if text.startswith("/") and len(text) > 1:
            command = text.split(maxsplit=1)[0]
            _, _, target = command.partition("@")
            return not target or target.lower() == self.bot_username.lower()
        return False

    def _add_caption(self, fields: dict[str, Any], caption: str | None) -> None:
        if caption:
            fields["caption"] = caption
            entities = bot_command_entities(caption)
            if entities:
                fields["caption_entities"] = entities

    def _new_message(self, chat: Chat, sender: dict, reply_target: dict | None) -> dict:
        counter = self._message_ids.setdefault(chat.id, itertools.count(1))
        message: dict[str, Any] = {
            "message_id": next(counter),
            "from": dict(sender),
            "chat": chat.to_dict(),
            "date": int(self.now()),
        }
        if reply_target is not None:
            reply = copy.deepcopy(reply_target)
            reply.pop("reply_to_message", None)  # Telegram does not nest replies further
            message["reply_to_message"] = reply
        self._messages.setdefault(chat.id, {})[message["message_id"]] = message
        return message

    def _now_int(self) -> int:
        return int(self.now())

    # ------------------------------------------------------------------- HTTP

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        # nginx in front of api.telegram.org merges slashes, so a base URL with a trailing
        # slash (pydantic's AnyHttpUrl adds one) still works there; do the same.
        path = re.sub(r"/{2,}", "/", request.path)
        if path.startswith("/_fake/"):
            return await self._control(request, path.removeprefix("/_fake/"))
        match = re.fullmatch(r"/file/bot([^/]+)/(.+)", path)
        if match:
            return self._download(*match.groups())
        match = re.fullmatch(r"/bot([^/]*)/([^/]*)", path)
        if match is None:
            return _error_response(ApiError(404, "Not Found"))
        token, method = match.groups()
        if token != self.token:
            return _error_response(ApiError(401, "Unauthorized"))
        try:
            params, files = await _read_params(request)
        except web.HTTPRequestEntityTooLarge:
            return _error_response(ApiError(413, "Request Entity Too Large"))
        except (ValueError, UnicodeDecodeError):
            return _error_response(_bad("can't parse request body"))

        record = Recorded(method=method, params=params, files=files, time=self.now())
        self.requests.append(record)
        self._notify()
        handler = self._methods.get(method.lower())
        status = 200
        try:
            if handler is None:
                raise ApiError(404, "Not Found")
            self._raise_fault(method)
            self._check_rate_limit(method, params)
            response: dict[str, Any] = {"ok": True, "result": await handler(params, files)}
        except ApiError as error:
            status, response = error.code, error.payload()
        record.response = response
        self._notify()
        return web.json_response(response, status=status)

    def _raise_fault(self, method: str) -> None:
        faults = self._faults.get(method.lower())
        if not faults:
            return
        fault = faults[0]
        fault.times -= 1
        if fault.times <= 0:
            faults.pop(0)
        raise ApiError(fault.error_code, fault.description, fault.parameters)

    def _check_rate_limit(self, method: str, params: Params) -> None:
        if self._rate_limit is None:
            return
        max_calls, window, methods, per_chat = self._rate_limit
        if method.lower() not in methods:
            return
        key = str(params.get("chat_id")) if per_chat else None
        now = self.now()
        calls = [t for t in self._rate_calls.get(key, []) if now - t < window]
        if len(calls) >= max_calls:
            self._rate_calls[key] = calls
            retry_after = max(1, math.ceil(window - (now - calls[0])))
            raise ApiError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )
        calls.append(now)
        self._rate_calls[key] = calls

    def _download(self, token: str, file_path: str) -> web.StreamResponse:
        stored = self._file_paths.get(file_path)
        if token != self.token:
            return _error_response(ApiError(401, "Unauthorized"))
        if stored is None:
            return _error_response(ApiError(404, "Not Found"))
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    # ---------------------------------------------------------- param helpers

    def _chat(self, params: Params) -> Chat:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad("chat_id is empty")
        if isinstance(chat_id, str):
            if re.fullmatch(r"-?\d+", chat_id):
                chat_id = int(chat_id)
            else:
                username = chat_id.removeprefix("@").lower()
                for chat in self._chats.values():
                    if (chat.username or "").lower() == username:
                        chat_id = chat.id
                        break
                else:
                    raise _bad("chat not found")
        chat = self._chats.get(int(chat_id))
        if chat is None:
            raise _bad("chat not found")
        if chat.id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _text(
        self, raw: Any, parse_mode: Any, entities: Any, *, what: str = "message text"
    ) -> tuple[str, list[dict]]:
        text = "" if raw is None else str(raw)
        try:
            plain, parsed = parse_text(text, parse_mode or None, _json_field(entities, "entities"))
        except EntityParseError as error:
            raise _bad(f"can't parse entities: {error}") from None
        if not plain.strip():
            raise _bad(f"{what} is empty")
        return plain, parsed

    def _markup(self, raw: Any) -> dict | None:
        if raw is None or raw == "":
            return None
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError:
                raise _bad("can't parse reply keyboard markup JSON object") from None
        if not isinstance(raw, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        markup = raw
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad(
                    'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array '
                    "of Arrays"
                )
            if sum(len(r) for r in rows) > 100:
                raise _bad("reply markup is too long")
            for button in (b for r in rows for b in r):
                _check_inline_button(button)
        elif "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad(
                    'field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays'
                )
            for button in (b for r in rows for b in r):
                if not isinstance(button, str) and not (
                    isinstance(button, dict) and isinstance(button.get("text"), str)
                ):
                    raise _bad('can\'t parse keyboard button: Field "text" must be of type String')
        elif markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
            pass
        else:
            raise _bad("can't parse reply keyboard markup JSON object")
        return markup

    def _reply_target(self, chat: Chat, params: Params) -> dict | None:
        reply_parameters = _json_field(params.get("reply_parameters"), "reply parameters")
        allow_missing = False
        message_id = None
        if isinstance(reply_parameters, dict):
            message_id = reply_parameters.get("message_id")
            allow_missing = bool(reply_parameters.get("allow_sending_without_reply"))
        elif params.get("reply_to_message_id"):
            message_id = params["reply_to_message_id"]
            allow_missing = bool(params.get("allow_sending_without_reply"))
        if message_id is None:
            return None
        target = self._messages.get(chat.id, {}).get(int(message_id))
        if target is None and not allow_missing:
            raise _bad("message to be replied not found")
        return target

    def _bot_send(
        self, chat: Chat, params: Params, fields: dict[str, Any], markup: dict | None
    ) -> tuple[dict, BotMessage]:
        reply_target = self._reply_target(chat, params)
        message = self._new_message(chat, self.bot_user, reply_target)
        message.update(fields)
        if params.get("message_thread_id") and chat.is_group:
            # Sent into a forum topic: Telegram marks the message as the topic's.
            message["message_thread_id"] = int(params["message_thread_id"])
            message["is_topic_message"] = True
        if markup and "inline_keyboard" in markup:
            # Message.reply_markup only ever carries inline keyboards.
            message["reply_markup"] = copy.deepcopy(markup)
        bot_message = BotMessage(
            message_id=message["message_id"],
            chat_id=chat.id,
            date=message["date"],
            reply_markup=copy.deepcopy(markup),
            reply_to=reply_target["message_id"] if reply_target else None,
        )
        self._bot_messages.setdefault(chat.id, {})[bot_message.message_id] = bot_message
        return message, bot_message

    def _editable(self, params: Params) -> tuple[Chat, dict, BotMessage]:
        if params.get("inline_message_id"):
            raise _bad("message to edit not found")  # inline mode is not simulated
        chat = self._chat(params)
        message_id = params.get("message_id")
        if message_id in (None, ""):
            raise _bad("message identifier is not specified")
        message = self._messages.get(chat.id, {}).get(int(message_id))
        if message is None:
            raise _bad("message to edit not found")
        bot_message = self._bot_messages.get(chat.id, {}).get(int(message_id))
        if bot_message is None:
            raise _bad("message can't be edited")
        return chat, message, bot_message

    def _apply_edit(
        self, message: dict, bot_message: BotMessage, changes: dict[str, Any], markup: dict | None
    ) -> dict:
        current_markup = message.get("reply_markup")
        same = all((message.get(k) or None) == (v or None) for k, v in changes.items())
        if same and current_markup == markup:
            raise _bad(NOT_MODIFIED)
        bot_message.history.append(bot_message.snapshot())
        for key, value in changes.items():
            if value in (None, []):
                message.pop(key, None)
            else:
                message[key] = value
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = copy.deepcopy(markup)
        bot_message.reply_markup = copy.deepcopy(markup)
        message["edit_date"] = bot_message.edit_date = self._now_int()
        return copy.deepcopy(message)

    def _inline_markup(self, raw: Any) -> dict | None:
        markup = self._markup(raw)
        if markup is not None and "inline_keyboard" not in markup:
            raise _bad("inline keyboard expected")
        return markup

    # --------------------------------------------------------------- methods

    async def _true(self, params: Params, files: Files) -> bool:
        return True

    async def _get_me(self, params: Params, files: Files) -> dict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: Params, files: Files) -> list[dict]:
        if self.webhook_url:
            raise ApiError(409, CONFLICT_WEBHOOK)
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = min(max(float(params.get("timeout") or 0), 0.0), self.MAX_POLL_TIMEOUT)
        if "allowed_updates" in params:
            allowed = _json_field(params["allowed_updates"], "allowed updates") or []
            self._allowed_updates = list(allowed) or None

        # A newer getUpdates terminates a pending one, like Telegram does (409).
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()

        if offset > 0:
            self._queue = [u for u in self._queue if u["update_id"] >= offset]
        elif offset < 0:
            self._queue = self._queue[offset:]
        self._notify()

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise ApiError(409, CONFLICT_OTHER_POLL)
            self._queue = [u for u in self._queue if self._is_allowed(u)]
            if self._queue or self._closing:
                return copy.deepcopy(self._queue[:limit])
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            await self._wait_change(remaining)

    def _is_allowed(self, update: dict) -> bool:
        kind = next(k for k in update if k != "update_id")
        if self._allowed_updates is None:
            return kind not in _NOT_DEFAULT_UPDATES
        return kind in self._allowed_updates

    async def _set_webhook(self, params: Params, files: Files) -> bool:
        self.webhook_url = str(params.get("url") or "")
        self.webhook_secret = str(params.get("secret_token") or "")
        if params.get("drop_pending_updates"):
            self._queue.clear()
        if self.deliver_webhooks and self.webhook_url:
            # Queued before the webhook was set, not being delivered yet.
            for update in list(self._queue):
                if update["update_id"] not in self._delivering:
                    self._start_delivery(update)
        return True

    async def _delete_webhook(self, params: Params, files: Files) -> bool:
        self.webhook_url = ""
        if params.get("drop_pending_updates"):
            self._queue.clear()
            self._notify()
        return True

    async def _get_webhook_info(self, params: Params, files: Files) -> dict:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }

    async def _send_message(self, params: Params, files: Files) -> dict:
        chat = self._chat(params)
        text, entities = self._text(
            params.get("text"), params.get("parse_mode"), params.get("entities")
        )
        if len(text) > self.MAX_TEXT:
            raise _bad("message is too long")
        markup = self._markup(params.get("reply_markup"))
        fields: dict[str, Any] = {"text": text}
        if entities:
            fields["entities"] = entities
        message, bot_message = self._bot_send(chat, params, fields, markup)
        bot_message.text = text
        bot_message.raw_text = str(params.get("text"))
        bot_message.parse_mode = params.get("parse_mode")
        bot_message.entities = entities
        self._notify()
        return copy.deepcopy(message)

    async def _edit_message_text(self, params: Params, files: Files) -> dict:
        _, message, bot_message = self._editable(params)
        if "text" not in message:
            raise _bad("there is no text in the message to edit")
        text, entities = self._text(
            params.get("text"), params.get("parse_mode"), params.get("entities")
        )
        if len(text) > self.MAX_TEXT:
            # Edits fail with the raw MTProto error, unlike sendMessage.
            raise _bad("MESSAGE_TOO_LONG")
        # Without reply_markup Telegram drops the inline keyboard on a text edit.
        markup = self._inline_markup(params.get("reply_markup"))
        result = self._apply_edit(
            message, bot_message, {"text": text, "entities": entities}, markup
        )
        bot_message.text = text
        bot_message.raw_text = str(params.get("text"))
        bot_message.parse_mode = params.get("parse_mode")
        bot_message.entities = entities
        self._notify()
        return result

    async def _edit_message_caption(self, params: Params, files: Files) -> dict:
        _, message, bot_message = self._editable(params)
        if "text" in message:
            raise _bad("there is no caption in the message to edit")
        caption, entities = "", []
        if params.get("caption"):
            caption, entities = self._text(
                params.get("caption"),
                params.get("parse_mode"),
                params.get("caption_entities"),
                what="caption",
            )
        if len(caption) > self.MAX_CAPTION:
            raise _bad("message caption is too long")
        markup = self._inline_markup(params.get("reply_markup"))
        changes = {"caption": caption or None, "caption_entities": entities or None}
        result = self._apply_edit(message, bot_message, changes, markup)
        bot_message.caption = caption or None
        self._notify()
        return result

    async def _edit_message_reply_markup(self, params: Params, files: Files) -> dict:
        _, message, bot_message = self._editable(params)
        markup = self._inline_markup(params.get("reply_markup"))
        result = self._apply_edit(message, bot_message, {}, markup)
        self._notify()
        return result

    async def _delete_message(self, params: Params, files: Files) -> bool:
        chat = self._chat(params)
        self._delete(chat, params.get("message_id"))
        self._notify()
        return True

    async def _delete_messages(self, params: Params, files: Files) -> bool:
        chat = self._chat(params)
        ids = _json_field(params.get("message_ids"), "message identifiers") or []
        for message_id in ids:
            try:
                self._delete(chat, message_id)
            except ApiError:
                pass  # deleteMessages skips messages it can't find
        self._notify()
        return True

    def _delete(self, chat: Chat, message_id: Any) -> None:
        if message_id in (None, ""):
            raise _bad("message identifier is not specified")
        message = self._messages.get(chat.id, {}).pop(int(message_id), None)
        if message is None:
            raise _bad("message to delete not found")
        bot_message = self._bot_messages.get(chat.id, {}).get(int(message_id))
        if bot_message is not None:
            bot_message.deleted = True

    async def _answer_callback_query(self, params: Params, files: Files) -> bool:
        query = self._callbacks.get(str(params.get("callback_query_id") or ""))
        if (
            query is None
            or query.answer is not None
            or self.now() - query.created > self.CALLBACK_ANSWER_TIMEOUT
        ):
            raise _bad(QUERY_TOO_OLD)
        text = params.get("text")
        if text and len(str(text)) > self.MAX_CALLBACK_ANSWER:
            raise _bad("MESSAGE_TOO_LONG")
        query.answer = {
            "callback_query_id": query.id,
            "chat_id": query.chat_id,
            "message_id": query.message_id,
            "data": query.data,
            "text": text,
            "show_alert": bool(params.get("show_alert")),
            "url": params.get("url"),
            "cache_time": params.get("cache_time"),
        }
        self.callback_answers.append(query.answer)
        return True

    async def _send_document(self, params: Params, files: Files) -> dict:
        chat = self._chat(params)
        ref = params.get("document")
        upload: UploadedFile | None = None
        stored: StoredFile | None = None
        if isinstance(ref, str) and ref.startswith("attach://"):
            upload = files.get(ref.removeprefix("attach://"))
            if upload is None:
                raise _bad("wrong file identifier/HTTP URL specified")
        elif "document" in files:
            upload = files["document"]
        elif isinstance(ref, str) and ref in self._files:
            stored = self._files[ref]  # re-sending by file_id
        elif isinstance(ref, str) and ref.startswith(("http://", "https://")):
            raise _bad("failed to get HTTP URL content")
        elif ref:
            raise _bad("wrong file identifier/HTTP URL specified")
        else:
            raise _bad("there is no document in the request")
        if upload is not None:
            if len(upload.data) > self.MAX_UPLOAD:
                raise ApiError(413, "Request Entity Too Large")
            if not upload.data:
                raise _bad("file must be non-empty")
            mime = mimetypes.guess_type(upload.filename)[0] or "application/octet-stream"
            stored = self.store_file(upload.data, filename=upload.filename, mime_type=mime)
        assert stored is not None
        caption, caption_entities = None, []
        if params.get("caption"):
            caption, caption_entities = self._text(
                params["caption"],
                params.get("parse_mode"),
                params.get("caption_entities"),
                what="caption",
            )
            if len(caption) > self.MAX_CAPTION:
                raise _bad("message caption is too long")
        markup = self._markup(params.get("reply_markup"))
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": stored.filename or "document",
            "mime_type": stored.mime_type or "application/octet-stream",
            "file_size": stored.size,
        }
        fields: dict[str, Any] = {"document": document}
        if caption:
            fields["caption"] = caption
        if caption_entities:
            fields["caption_entities"] = caption_entities
        message, bot_message = self._bot_send(chat, params, fields, markup)
        bot_message.document = document
        bot_message.file = stored
        bot_message.caption = caption
        bot_message.parse_mode = params.get("parse_mode")
        self._notify()
        return copy.deepcopy(message)

    async def _send_chat_action(self, params: Params, files: Files) -> bool:
        self._chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    async def _get_file(self, params: Params, files: Files) -> dict:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise _bad("invalid file_id")
        if stored.size > self.MAX_DOWNLOAD:
            raise _bad("file is too big")
        if stored.file_path is None:
            folder = "documents" if stored.filename else "photos"
            suffix = ""
            if stored.filename and "." in stored.filename:
                suffix = "." + stored.filename.rsplit(".", 1)[1]
            stored.file_path = f"{folder}/file_{len(self._file_paths)}{suffix}"
            self._file_paths[stored.file_path] = stored
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }

    async def _set_my_commands(self, params: Params, files: Files) -> bool:
        commands = _json_field(params.get("commands"), "commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("too many commands")
        for command in commands:
            if not isinstance(command, dict):
                raise _bad("can't parse BotCommand")
            if not _COMMAND_NAME_RE.fullmatch(str(command.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params)
        if commands:
            self.commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self.commands.pop(key, None)
        return True

    async def _get_my_commands(self, params: Params, files: Files) -> list[dict]:
        return copy.deepcopy(self.commands.get(self._commands_key(params), []))

    async def _delete_my_commands(self, params: Params, files: Files) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    def _commands_key(self, params: Params) -> tuple[str, str]:
        scope = _json_field(params.get("scope"), "scope")
        return _scope_key(scope), str(params.get("language_code") or "")

    def _set_bot_info(self, field: str) -> Handler:
        async def handler(params: Params, files: Files) -> bool:
            key = f"{field}:{params.get('language_code') or ''}"
            self.bot_info[key] = str(params.get(field) or "")
            return True

        return handler

    def _get_bot_info(self, field: str) -> Handler:
        async def handler(params: Params, files: Files) -> dict:
            key = f"{field}:{params.get('language_code') or ''}"
            value = self.bot_info.get(key) or (self.bot_first_name if field == "name" else "")
            return {field: value}

        return handler

    async def _get_chat(self, params: Params, files: Files) -> dict:
        chat = self._chat(params)
        return {
            **chat.to_dict(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    async def _get_chat_member(self, params: Params, files: Files) -> dict:
        chat = self._chat(params)
        user_id = int(params.get("user_id") or 0)
        if user_id == self.bot_id:
            return {"status": "member", "user": self.bot_user}
        user = self._users.get(user_id)
        if user is None:
            raise _bad("user not found")
        if chat.type == "private":
            status = "member" if chat.id == user_id else "left"
        else:
            status = self._members.get((chat.id, user_id), "left")
        left = self._restricted_left.get((chat.id, user_id), False)
        return self._member_object(status, user, is_member=not left)

    @staticmethod
    def _member_object(status: str, user: User, *, is_member: bool = True) -> dict[str, Any]:
        member: dict[str, Any] = {"status": status, "user": user.to_dict()}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(dict.fromkeys(_ADMIN_RIGHTS, True), can_be_edited=False)
            member["is_anonymous"] = False
        elif status == "restricted":
            member.update(
                dict.fromkeys(_RESTRICTED_RIGHTS, False), is_member=is_member, until_date=0
            )
        elif status == "kicked":
            member["until_date"] = 0
        return member

    # ---------------------------------------------------------- control API

    async def _control(self, request: web.Request, action: str) -> web.StreamResponse:
        """JSON control endpoints for a fake run by hand (``python -m bot.sandbox....``)."""
        try:
            body: dict[str, Any] = {}
            file_part: UploadedFile | None = None
            if request.method == "POST":
                if request.content_type == "multipart/form-data":
                    form = await request.post()
                    for key, value in form.items():
                        if isinstance(value, web.FileField):
                            file_part = UploadedFile(
                                key, value.filename, value.file.read(), value.content_type
                            )
                        else:
                            body[key] = _maybe_json(str(value))
                elif request.can_read_body:
                    body = await request.json()
            result = self._control_action(action, body, file_part, request.query)
        except (LookupError, ValueError, TypeError) as error:
            return web.json_response({"ok": False, "error": str(error)}, status=400)
        return web.json_response({"ok": True, "result": result})

    def _control_action(
        self, action: str, body: dict, file_part: UploadedFile | None, query: Any
    ) -> Any:
        def user() -> User:
            return User.from_dict(body["user"])

        def chat() -> Chat:
            if "chat" in body:
                return Chat.from_dict(body["chat"])
            if "chat_id" in body:
                return self._chats[int(body["chat_id"])]
            return Chat.private(user())

        match action:
            case "send_text":
                return self.send_text(chat(), user(), body["text"], reply_to=body.get("reply_to"))
            case "send_document":
                if file_part is not None:
                    data, filename = file_part.data, file_part.filename
                else:
                    data, filename = base64.b64decode(body["data_b64"]), body["filename"]
                return self.send_document(
                    chat(),
                    user(),
                    data,
                    filename,
                    body.get("mime_type"),
                    reply_to=body.get("reply_to"),
                    caption=body.get("caption"),
                )
            case "press":
                return self.press_button(chat(), user(), int(body["message_id"]), body["data"])
            case "fail_next":
                self.fail_next(
                    body["method"],
                    error_code=int(body.get("error_code", 429)),
                    description=body.get("description"),
                    retry_after=body.get("retry_after"),
                    times=int(body.get("times", 1)),
                )
                return True
            case "messages":
                return [m.to_json() for m in self.messages(int(query["chat_id"]))]
            case "requests":
                method = query.get("method")
                return [
                    {"method": r.method, "params": r.params, "response": r.response}
                    for r in self.requests
                    if method is None or r.method.lower() == method.lower()
                ]
            case "dropped":
                return self.dropped
            case "callback_answers":
                return self.callback_answers
            case "commands":
                return [
                    {"scope": json.loads(scope), "language_code": lang, "commands": commands}
                    for (scope, lang), commands in self.commands.items()
                ]
        raise LookupError(f"unknown control action {action!r}")


# ------------------------------------------------------------------ module helpers


def _update_chat_id(update: dict) -> int:
    """The chat an update belongs to, for in-order delivery (0 when it has none)."""
    for kind, body in update.items():
        if kind == "update_id" or not isinstance(body, dict):
            continue
        chat = body.get("chat") or (body.get("message") or {}).get("chat")
        if chat:
            return int(chat["id"])
        if body.get("from"):
            return int(body["from"]["id"])
    return 0


def _scope_key(scope: Any) -> str:
    return json.dumps(scope or {"type": "default"}, sort_keys=True)


def _maybe_json(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def _json_field(value: Any, what: str) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise _bad(f"can't parse {what} JSON object") from None
    return value


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise _bad("can't parse inline keyboard button: Text is not specified")
    actions = _INLINE_ACTIONS & button.keys()
    if not actions:
        raise _bad(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= 64:
            raise _bad("BUTTON_DATA_INVALID")
    if "url" in button:
        url = str(button["url"])
        if not re.match(r"(https?|tg)://\S+$", url):
            raise _bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


async def _read_params(request: web.Request) -> tuple[Params, Files]:
    raw: dict[str, Any] = dict(request.query)
    files: Files = {}
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                raw.update(body)
        else:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = UploadedFile(
                        key, value.filename, value.file.read(), value.content_type
                    )
                else:
                    raw[key] = value if isinstance(value, str) else bytes(value).decode()
    params = {
        key: value if key in _STRING_FIELDS or not isinstance(value, str) else _maybe_json(value)
        for key, value in raw.items()
    }
    return params, files


def _error_response(error: ApiError) -> web.Response:
    return web.json_response(error.payload(), status=error.code)

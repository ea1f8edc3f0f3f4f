"""The demo's chat page: static HTML + a small script (no build step, no CDN) and the JSON
endpoints it calls. The page is a Telegram client of the fake Bot API: what a person types
or presses becomes an update the unmodified bot fetches by long polling; what the bot sent
is read back from the fake. It also shows the campaign API fake's requests and switches
its fault modes."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
from aiohttp import web

from bot.sandbox.campaign_api import FakeCampaignApi
from bot.sandbox.examples import EXAMPLES
from bot.sandbox.telegram import Chat, FakeTelegram, User

STATIC = Path(__file__).with_name("static")
# Telegram shows a chat action for up to 5 s, or until the bot's next message.
CHAT_ACTION_SECONDS = 5.0
# Bodies of big lists are cut on the page: the first phones show the shape.
SHOWN_PHONES = 20
SHOWN_REQUESTS = 10
SLOW_SECONDS = 8.0
REJECTION = {
    "message": "Проект закрыт для новых обзвонов (демо: отказ API)",
    "errors": ["campaign.project_id: project is closed"],
}
FAULT_MODES = ("normal", "reject", "outage", "slow")
_ENDS_CHAT_ACTION = {"sendmessage", "senddocument", "editmessagetext", "editmessagecaption"}


@dataclass(frozen=True)
class DemoChat:
    chat: Chat
    title: str
    members: tuple[User, ...]


class ChatPage:
    def __init__(
        self, telegram: FakeTelegram, campaigns: FakeCampaignApi, chats: list[DemoChat]
    ) -> None:
        self.telegram = telegram
        self.campaigns = campaigns
        self.chats = {c.chat.id: c for c in chats}
        self.mode = "normal"
        self._runner: web.AppRunner | None = None
        self.url = ""

    def app(self) -> web.Application:
        # Uploads up to Telegram's 50 MB, as the fake Bot API takes them.
        app = web.Application(client_max_size=60 * 1024 * 1024, middlewares=[_bad_request])
        app.router.add_get("/", self._index)
        app.router.add_static("/static/", STATIC, show_index=False)
        app.router.add_get("/api/state", self._state)
        app.router.add_post("/api/send", self._send)
        app.router.add_post("/api/upload", self._upload)
        app.router.add_post("/api/example", self._send_example)
        app.router.add_post("/api/press", self._press)
        app.router.add_post("/api/mode", self._set_mode)
        app.router.add_get("/api/file/{file_id}", self._file)
        app.router.add_get("/examples/{name}", self._example)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self.url = f"http://{bound_host}:{bound_port}/"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------ reading

    async def _index(self, _: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def _state(self, request: web.Request) -> web.Response:
        chat_id = int(request.query.get("chat") or next(iter(self.chats)))
        state = {
            "bot": self.telegram.bot_user,
            "chats": [
                {
                    "id": c.chat.id,
                    "title": c.title,
                    "type": c.chat.type,
                    "members": [_user_json(u) for u in c.members],
                }
                for c in self.chats.values()
            ],
            "chat_id": chat_id,
            "messages": [self._message_json(m) for m in self.telegram.timeline(chat_id)],
            "typing": self._typing(chat_id),
            "toasts": [
                {"id": a["callback_query_id"], "text": a["text"], "alert": a["show_alert"]}
                for a in self.telegram.callback_answers[-5:]
                if a.get("text") and a.get("chat_id") == chat_id
            ],
            "mode": self.mode,
            "modes": list(FAULT_MODES),
            "api": self._campaign_requests(),
            "examples": list(EXAMPLES),
        }
        return _json(state)

    def _typing(self, chat_id: int) -> str | None:
        """The chat action to show: the bot's latest one, until 5 s pass or the bot sends
        or edits a message in the chat (as Telegram's apps show it)."""
        for record in reversed(self.telegram.requests):
            if str(record.params.get("chat_id")) != str(chat_id) or not record.ok:
                continue
            method = record.method.lower()
            if method in _ENDS_CHAT_ACTION:
                return None
            if method == "sendchataction":
                if self.telegram.now() - record.time > CHAT_ACTION_SECONDS:
                    return None
                return str(record.params.get("action"))
        return None

    def _message_json(self, message: dict) -> dict[str, Any]:
        sender = message.get("from", {})
        markup = message.get("markup") or message.get("reply_markup") or {}
        data: dict[str, Any] = {
            "id": message["message_id"],
            "date": message["date"],
            "from": _user_json(sender),
            "is_bot": sender.get("id") == self.telegram.bot_id,
            "text": message.get("text") or message.get("caption") or "",
            "entities": message.get("entities") or message.get("caption_entities") or [],
            "edited": "edit_date" in message,
            "buttons": [
                [
                    {"text": b.get("text", ""), "data": b.get("callback_data"), "url": b.get("url")}
                    for b in row
                ]
                for row in markup.get("inline_keyboard") or []
            ],
            "force_reply": bool(markup.get("force_reply")),
            "selective": bool(markup.get("selective")),
            "placeholder": markup.get("input_field_placeholder"),
        }
        if document := message.get("document"):
            data["document"] = {
                "file_id": document["file_id"],
                "name": document.get("file_name") or "document",
                "size": document.get("file_size"),
            }
        if reply := message.get("reply_to_message"):
            data["reply_to"] = {
                "id": reply["message_id"],
                "from": _user_json(reply.get("from", {})),
                "text": (reply.get("text") or reply.get("caption") or "")[:80]
                or (reply.get("document") or {}).get("file_name", ""),
            }
        return data

    def _campaign_requests(self) -> list[dict[str, Any]]:
        shown = []
        for record in self.campaigns.requests[-SHOWN_REQUESTS:]:
            body = copy.deepcopy(record.json)
            total = None
            if isinstance(body, dict) and isinstance(body.get("phones"), list):
                total = len(body["phones"])
                body["phones"] = body["phones"][:SHOWN_PHONES]
            headers = {
                k: ("•••" if k.lower() == "authorization" else v)
                for k, v in record.headers.items()
                if k.lower() in {"content-type", "authorization", "content-length"}
            }
            shown.append(
                {
                    "method": record.method,
                    "path": record.path,
                    "headers": headers,
                    "body": body,
                    "phones_total": total,
                    "status": record.status,
                    "response": record.response,
                }
            )
        return shown

    # ------------------------------------------------------------------ acting

    def _who(self, body: dict[str, Any]) -> tuple[Chat, User]:
        demo_chat = self.chats[int(body["chat_id"])]
        user_id = int(body["user_id"])
        for user in demo_chat.members:
            if user.id == user_id:
                return demo_chat.chat, user
        raise LookupError(f"user {user_id} is not in chat {demo_chat.chat.id}")

    async def _send(self, request: web.Request) -> web.Response:
        body = await request.json()
        text = str(body.get("text") or "").strip()
        if not text:
            return _json({"ok": False, "error": "empty message"}, 400)
        chat, user = self._who(body)
        update = self.telegram.send_text(chat, user, text, reply_to=_reply_to(body))
        return _json({"ok": True, "delivered": "update_id" in update})

    async def _upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            return _json({"ok": False, "error": "no file"}, 400)
        fields = {k: str(v) for k, v in form.items() if not isinstance(v, web.FileField)}
        chat, user = self._who(fields)
        update = self.telegram.send_document(
            chat,
            user,
            upload.file.read(),
            upload.filename,
            upload.content_type,
            reply_to=_reply_to(fields),
            caption=fields.get("caption") or None,
        )
        return _json({"ok": True, "delivered": "update_id" in update})

    async def _send_example(self, request: web.Request) -> web.Response:
        body = await request.json()
        name = str(body.get("name"))
        if name not in EXAMPLES:
            raise web.HTTPNotFound()
        make, mime = EXAMPLES[name]
        chat, user = self._who(body)
        update = self.telegram.send_document(
            chat, user, make(), name, mime, reply_to=_reply_to(body)
        )
        return _json({"ok": True, "delivered": "update_id" in update})

    async def _press(self, request: web.Request) -> web.Response:
        body = await request.json()
        chat, user = self._who(body)
        update = self.telegram.press_button(chat, user, int(body["message_id"]), body["data"])
        return _json({"ok": True, "query_id": update["callback_query"]["id"]})

    async def _set_mode(self, request: web.Request) -> web.Response:
        mode = str((await request.json()).get("mode"))
        if mode not in FAULT_MODES:
            return _json({"ok": False, "error": f"unknown mode {mode!r}"}, 400)
        api = self.campaigns
        api.clear_faults()
        await api.go_online()
        if mode == "reject":
            api.set_fault(status=422, json=REJECTION)
        elif mode == "outage":
            await api.go_offline()
        elif mode == "slow":
            api.set_fault(delay=SLOW_SECONDS)
        self.mode = mode
        return _json({"ok": True, "mode": mode})

    async def _file(self, request: web.Request) -> web.Response:
        try:
            stored = self.telegram.stored_file(request.match_info["file_id"])
        except LookupError:
            raise web.HTTPNotFound() from None
        return _attachment(stored.data, stored.filename or "file", stored.mime_type)

    async def _example(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in EXAMPLES:
            raise web.HTTPNotFound()
        make, mime = EXAMPLES[name]
        return _attachment(make(), name, mime)


@web.middleware
async def _bad_request(request: web.Request, handler: Any) -> web.StreamResponse:
    """A request the page should not make (unknown chat, user or message) is a 400 with
    the reason, which the page shows, not a 500."""
    try:
        return await handler(request)
    except (LookupError, ValueError, TypeError) as error:
        return _json({"ok": False, "error": str(error)}, 400)


def _reply_to(body: dict[str, Any]) -> int | None:
    value = body.get("reply_to")
    return int(value) if value not in (None, "", "null") else None


def _user_json(user: dict[str, Any] | User) -> dict[str, Any]:
    data = user.to_dict() if isinstance(user, User) else user
    return {"id": data.get("id"), "name": data.get("first_name", "")}


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=orjson.dumps(data),
        status=status,
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


def _attachment(data: bytes, filename: str, mime: str | None) -> web.Response:
    return web.Response(
        body=data,
        content_type=mime or "application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
            "Cache-Control": "no-store",
        },
    )

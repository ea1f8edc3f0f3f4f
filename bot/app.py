"""The one factory main and tests share: storage, dispatcher, routers, middlewares."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseEventIsolation,
    BaseStorage,
    DefaultKeyBuilder,
    StateType,
    StorageKey,
)
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import BotCommand, BotCommandScopeDefault
from aiogram.utils.i18n import I18n
from redis.asyncio import BlockingConnectionPool, Redis
from redis.maint_notifications import MaintNotificationsConfig

from bot.aiogram_compat import handling_tasks
from bot.campaigns.client import CampaignClient
from bot.deps import AppDeps
from bot.dialog import get_routers, setup_dialog
from bot.dialog.errors import on_error
from bot.drafts import (
    InFlightMarks,
    MemoryInFlightMarks,
    MemoryPhoneListStore,
    PhoneListStore,
    RedisInFlightMarks,
    RedisPhoneListStore,
    Signer,
)
from bot.handoff import HandoffStore, MemoryHandoffStore, RedisHandoffStore
from bot.history import RedisHistoryStore, SafeHistory, SqliteHistoryStore
from bot.i18n import create_i18n
from bot.isolation import LOCK_BUSY_FILTER, RenewingRedisEventIsolation, on_lock_busy
from bot.middlewares.access import AccessMiddleware, AccessPolicy, membership_router
from bot.middlewares.i18n import PREFS_DESTINY, LanguagePreference, PreferenceI18nMiddleware
from bot.middlewares.integrity import DroppedDraftNotice
from bot.middlewares.logging import UpdateLoggingMiddleware
from bot.middlewares.outage import REDIS_DOWN_FILTER, on_redis_down
from bot.presets import Presets, load_presets
from bot.redelivery import AnnounceUpdate, HandleOnce, current_pending, write_pending
from bot.settings import Settings

log = logging.getLogger("bot")
SHUTDOWN_WAIT_SECONDS = 30.0


@dataclass
class StateBackend:
    storage: BaseStorage
    events_isolation: BaseEventIsolation
    phone_lists: PhoneListStore
    redis: Redis | None = None
    inflight: InFlightMarks | None = None
    key_prefix: str = "campaign-bot"
    handoffs: HandoffStore | None = None
    history: SafeHistory | None = None

    async def close(self) -> None:
        """Close the storage and its Redis connections (pool included). Called last, by the
        runner: the dispatcher's own shutdown hook (FSM close) runs before the hook that
        waits for submissions, so it must not close the connection they still use."""
        await self.phone_lists.close()
        if self.history is not None:
            await self.history.close()
        await self.events_isolation.close()
        if isinstance(self.storage, DraftRedisStorage):
            await self.storage.close_connections()
        else:
            await self.storage.close()


# (task, {data key: raw value}): what get_state read with the state in its one MGET.
_read_ahead: contextvars.ContextVar[tuple[Any, dict[str, Any]] | None] = contextvars.ContextVar(
    "draft_read_ahead", default=None
)


# (task, {Redis key: raw value}): state, data and language read with the update's lock
# (bot/isolation.py), for get_state to use instead of its MGET; valid while the lock is held.
_prefetched: contextvars.ContextVar[tuple[Any, dict[str, Any]] | None] = contextvars.ContextVar(
    "draft_prefetched", default=None
)


class DraftRedisStorage(RedisStorage):
    """RedisStorage whose drafts expire DRAFT_TTL_HOURS after their last change, together
    with their uploaded list; a user's language choice (its own destiny) does not expire.

    Every state and data value is signed (`Signer`, bound to its key): a draft that does not
    verify is deleted, remembered in `dropped` for DroppedDraftNotice to tell the user, and
    read as no draft at all; a language choice that does not verify reads as none."""

    def __init__(
        self, redis: Redis, *, key_prefix: str, ttl: int, list_prefix: str, signer: Signer
    ) -> None:
        super().__init__(
            redis,
            key_builder=DefaultKeyBuilder(prefix=key_prefix, with_bot_id=True, with_destiny=True),
            state_ttl=ttl,
            data_ttl=ttl,
        )
        self.list_prefix = list_prefix
        self.signer = signer
        self.dropped: set[StorageKey] = set()

    async def close(self) -> None:
        """A no-op: aiogram's Dispatcher closes its storage first thing on shutdown, while
        submissions still running need Redis; StateBackend.close closes it at the very end."""

    async def close_connections(self) -> None:
        await self.redis.aclose(close_connection_pool=True)

    def take_dropped(self, key: StorageKey) -> bool:
        """Whether `key`'s draft was refused since the last call (once per drop)."""
        if key in self.dropped:
            self.dropped.discard(key)
            return True
        return False

    def _draft_keys(self, key: StorageKey) -> list[str]:
        """State, data, and the user's language choice: what an update reads first."""
        prefs = StorageKey(
            bot_id=key.bot_id, chat_id=key.user_id, user_id=key.user_id, destiny=PREFS_DESTINY
        )
        return [
            self.key_builder.build(key, "state"),
            self.key_builder.build(key, "data"),
            self.key_builder.build(prefs, "data"),
        ]

    def prefetch_keys(self, key: StorageKey) -> list[str]:
        """For the lock's acquire script (bot/isolation.py: Prefetch)."""
        return self._draft_keys(key)

    def prefetched(self, values: dict[str, Any] | None) -> None:
        """What the lock read, for the next get_state in this task; None when released."""
        _prefetched.set(None if values is None else (asyncio.current_task(), values))

    async def _refuse(self, key: StorageKey) -> None:
        _read_ahead.set(None)
        _prefetched.set(None)
        log.warning(
            "stored draft chat=%s user=%s failed its integrity check: dropped",
            key.chat_id,
            key.user_id,
        )
        await self.redis.delete(
            self.key_builder.build(key, "state"), self.key_builder.build(key, "data")
        )
        if key.destiny != PREFS_DESTINY:
            self.dropped.add(key)

    def _verified(self, name: str, value: bytes | str | None) -> tuple[bool, str | None]:
        if value is None:
            return True, None
        text = self.signer.open_text(name, value)
        return text is not None, text

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        redis_key = self.key_builder.build(key, "state")
        value = state.state if isinstance(state, State) else state
        _prefetched.set(None)
        pending = current_pending()
        if pending is not None and key.destiny != PREFS_DESTINY:
            # Held until the draft write (or the end of the update) carries it, with the
            # update's "handled" mark (bot/redelivery.py).
            pending.states[redis_key] = None if value is None else str(value)
            return
        if value is None:
            await self.redis.delete(redis_key)
            return
        await self.redis.set(
            redis_key, self.signer.seal_text(redis_key, str(value)), ex=self.state_ttl
        )

    async def get_state(self, key: StorageKey) -> str | None:
        state_key = self.key_builder.build(key, "state")
        pending = current_pending()
        if pending is not None and state_key in pending.states:
            return pending.states[state_key]
        # The data is checked here too, in the same round trip: a forged draft is refused
        # before any handler sees it, not halfway through one.
        # The user's language choice comes in the same round trip: the i18n middleware
        # reads it next, then DraftLoader the draft (read ahead, used once each).
        keys = self._draft_keys(key)
        _, data_key, prefs_key = keys
        ahead = _prefetched.get()
        if (ahead is not None and ahead[0] is asyncio.current_task()
                and all(k in ahead[1] for k in keys)):
            # Read with the update's lock, still held, nothing written since: used once.
            _prefetched.set(None)
            state_value, data_value, prefs_value = (ahead[1][k] for k in keys)
        else:
            state_value, data_value, prefs_value = await self.redis.mget(*keys)
        state_ok, state = self._verified(state_key, state_value)
        data_ok, _ = self._verified(data_key, data_value)
        if not (state_ok and data_ok):
            await self._refuse(key)
            return None
        _read_ahead.set((asyncio.current_task(), {data_key: data_value, prefs_key: prefs_value}))
        return state

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        redis_key = self.key_builder.build(key, "data")
        ahead = _read_ahead.get()
        locked = _prefetched.get()
        if ahead is not None and ahead[0] is asyncio.current_task() and redis_key in ahead[1]:
            # Read by get_state in this very task, nothing written since: used once.
            raw = ahead[1].pop(redis_key)
        elif locked is not None and locked[0] is asyncio.current_task() and redis_key in locked[1]:
            # Read with the lock this task holds (a submission's outcome, the sweeper), with
            # no get_state first: used once.
            raw = locked[1].pop(redis_key)
        else:
            raw = await self.redis.get(redis_key)
        ok, text = self._verified(redis_key, raw)
        if not ok:
            await self._refuse(key)
            return {}
        if text is None:
            return {}
        try:
            data = self.json_loads(text)
        except ValueError:
            data = None
        if not isinstance(data, dict):  # signed by us, so only a bug: still never a crash
            await self._refuse(key)
            return {}
        return data

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if not isinstance(data, dict):
            raise DataNotDictLikeError(f"Data must be a dict, got {type(data).__name__}")
        redis_key = self.key_builder.build(key, "data")
        _read_ahead.set(None)  # what get_state read is no longer the draft
        _prefetched.set(None)
        value = self.signer.seal_text(redis_key, self.json_dumps(data)) if data else None
        if key.destiny == PREFS_DESTINY:
            if value is None:
                await self.redis.delete(redis_key)
            else:
                await self.redis.set(redis_key, value)
            return
        # One transaction: state and data, the update's "handled" mark (bot/redelivery.py)
        # and the list's TTL, so a crash leaves either all of them or none.
        async with self.redis.pipeline(transaction=True) as pipe:
            if value is None:
                pipe.delete(redis_key)
            else:
                pipe.set(redis_key, value, ex=self.data_ttl)
            pending = current_pending()
            if pending is not None:
                write_pending(pipe, pending, self.state_ttl, self.signer.seal_text)
            # The list lives as long as the draft that refers to it, not 24 h from its upload.
            ref = data.get("phones_ref")
            if isinstance(ref, str) and self.data_ttl is not None:
                pipe.expire(f"{self.list_prefix}:{ref}", self.data_ttl)
            await pipe.execute()


def create_signer(settings: Settings) -> Signer:
    key = settings.storage_hmac_key
    return Signer.from_secret(
        key.get_secret_value() if key else None, settings.bot_token.get_secret_value()
    )


def create_state_backend(
    settings: Settings, redis: Redis | None = None, *, key_prefix: str | None = None
) -> StateBackend:
    """Memory by default; with REDIS_URL drafts survive restarts and replicas share them.

    Redis keys: `<prefix>:<bot>:<chat>:<user>:<destiny>:{state,data,lock}` for drafts and
    `<prefix>:list:<ref>` for uploaded lists (PhoneList.to_bytes), all with the draft TTL.
    """
    ttl = settings.draft_ttl_seconds
    prefix = key_prefix or settings.redis_key_prefix
    if redis is None and settings.redis_url:
        # A burst of updates must wait for a connection, not fail: redis-py's default pool
        # raises once its connections are all in use.
        # Each new connection says HELLO only: no CLIENT SETINFO (metadata for CLIENT LIST)
        # and no CLIENT MAINT_NOTIFICATIONS (a managed-Redis feature; plain Redis refuses
        # it): three round trips fewer per connection opened, under a burst too.
        pool = BlockingConnectionPool.from_url(
            settings.redis_url, max_connections=50, timeout=20, driver_info=None,
            maint_notifications_config=MaintNotificationsConfig(enabled=False),
        )
        redis = Redis(connection_pool=pool)
    retention = settings.history_retention_seconds
    if redis is None:
        isolation = SimpleEventIsolation()
        marks = MemoryInFlightMarks(isolation)
        # Drafts die with the process, but what was launched must survive it: SQLite.
        history = SafeHistory(SqliteHistoryStore(settings.history_file,
                                                 retention_seconds=retention))
        return StateBackend(
            MemoryStorage(), isolation, MemoryPhoneListStore(ttl), None, marks,
            handoffs=MemoryHandoffStore(settings.handoff_ttl_seconds), history=history,
        )
    list_prefix = f"{prefix}:list"
    signer = create_signer(settings)
    storage = DraftRedisStorage(
        redis, key_prefix=prefix, ttl=ttl, list_prefix=list_prefix, signer=signer
    )
    # Held for the length of one update, across replicas: two taps on "Create" handled by
    # two replicas run one after the other. Short-lived and renewed while its holder works,
    # so a crashed holder blocks the user for seconds, not a minute (bot/isolation.py).
    # Taking it also reads the draft and the update's mark (one round trip).
    isolation = RenewingRedisEventIsolation(redis, storage.key_builder, prefetch=storage)
    phone_lists = RedisPhoneListStore(redis, ttl, prefix=list_prefix, signer=signer)
    marks = RedisInFlightMarks(redis, prefix, isolation, signer)
    handoffs = RedisHandoffStore(redis, prefix, settings.handoff_ttl_seconds, signer=signer)
    history = SafeHistory(
        RedisHistoryStore(redis, prefix, signer=signer, retention_seconds=retention)
    )
    return StateBackend(storage, isolation, phone_lists, redis, marks, prefix, handoffs, history)


def load_app_presets(settings: Settings) -> Presets:
    if settings.presets_file is not None:
        return load_presets(settings.presets_file)
    assert settings.campaign_project_id and settings.campaign_start_block_id
    assert settings.campaign_phone_id
    return Presets.single(
        project_id=settings.campaign_project_id,
        start_block_id=settings.campaign_start_block_id,
        phone_id=settings.campaign_phone_id,
    )


def create_deps(
    settings: Settings, backend: StateBackend, client: CampaignClient | None = None
) -> AppDeps:
    return AppDeps(
        settings=settings,
        presets=load_app_presets(settings),
        campaign_client=client or CampaignClient.from_settings(settings),
        phone_lists=backend.phone_lists,
        inflight=backend.inflight or MemoryInFlightMarks(backend.events_isolation),
        handoffs=backend.handoffs or MemoryHandoffStore(settings.handoff_ttl_seconds),
        history=backend.history,
    )


def create_dispatcher(
    settings: Settings,
    deps: AppDeps,
    backend: StateBackend,
    *,
    i18n: I18n | None = None,
) -> Dispatcher:
    dp = Dispatcher(storage=backend.storage, events_isolation=backend.events_isolation)
    i18n = i18n or create_i18n(settings.default_locale)
    preference = LanguagePreference(backend.storage)
    policy = AccessPolicy(settings.allowed_user_ids, settings.allowed_chat_ids)
    if policy.nobody_allowed:
        log.warning("ALLOWED_USER_IDS and ALLOWED_CHAT_IDS are empty: nobody may use the bot")

    if backend.redis is not None:
        # The mark is named before the FSM middleware (the Dispatcher's own) takes the lock,
        # whose acquire reads it.
        dp.update.outer_middleware.unregister(dp.fsm)
        dp.update.outer_middleware(AnnounceUpdate(backend.key_prefix))
        dp.update.outer_middleware(dp.fsm)
    dp.update.outer_middleware(UpdateLoggingMiddleware())
    if backend.redis is not None:
        # After the FSM middleware, hence under the user's lock.
        assert isinstance(backend.storage, DraftRedisStorage)
        dp.update.outer_middleware(HandleOnce(
            backend.redis, backend.key_prefix, settings.draft_ttl_seconds,
            seal=backend.storage.signer.seal_text, mark_ttl=settings.draft_ttl_seconds,
        ))
    # Language first, so that a refusal is in the user's language too.
    PreferenceI18nMiddleware(i18n, preference).setup(dp)
    access = AccessMiddleware(policy)
    dp.message.outer_middleware(access)
    dp.callback_query.outer_middleware(access)
    # After access (strangers learn nothing), before anything reads the draft.
    notice = DroppedDraftNotice()
    dp.message.outer_middleware(notice)
    dp.callback_query.outer_middleware(notice)
    # The draft loaded once, buttons checked against it, then the per-update Conversation.
    setup_dialog(dp)

    dp.include_routers(*get_routers())
    # Also puts chat_member into allowed_updates (resolve_used_update_types), which
    # Telegram does not send unless asked.
    dp.include_router(membership_router(policy))
    # Before the catch-all: a busy lock or a Redis outage get their own short answer.
    dp.errors.register(on_lock_busy, LOCK_BUSY_FILTER)
    dp.errors.register(on_redis_down, REDIS_DOWN_FILTER)
    dp.errors.register(on_error)
    dp.workflow_data.update(deps=deps, language_preference=preference, access_policy=policy)
    dp.shutdown.register(_on_shutdown)
    return dp


async def _on_shutdown(deps: AppDeps, dispatcher: Dispatcher | None = None) -> None:
    """Graceful stop, bounded by SHUTDOWN_WAIT_SECONDS in all: updates being handled finish
    (one may start a submission), then running submissions, then the HTTP client closes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SHUTDOWN_WAIT_SECONDS
    if dispatcher is not None:
        # Polling mode: the dispatcher's own per-update tasks (handle_as_tasks).
        this = asyncio.current_task()
        handling = [t for t in handling_tasks(dispatcher) if t is not this]
        if handling:
            log.info("shutdown: waiting for %d update(s) being handled", len(handling))
            await asyncio.wait(handling, timeout=max(0.1, deadline - loop.time()))
    if not await deps.tasks.wait(max(0.1, deadline - loop.time())):
        log.warning("shutdown: a submission did not finish in %.0f s", SHUTDOWN_WAIT_SECONDS)
    await deps.campaign_client.aclose()
    log.info("shutdown: campaign API client closed")


async def set_commands(bot: Bot, i18n: I18n) -> None:
    """The command menu, in Russian by default and in English for English clients."""
    from aiogram.utils.i18n import gettext as _

    for locale in ("ru", "en"):
        with i18n.context(), i18n.use_locale(locale):
            commands = [
                BotCommand(command="new", description=_("New campaign")),
                BotCommand(command="cancel", description=_("Cancel the current dialog")),
                BotCommand(command="history", description=_("Campaigns launched")),
                BotCommand(command="help", description=_("How it works")),
                BotCommand(command="language", description=_("Language")),
            ]
        await bot.set_my_commands(
            commands,
            scope=BotCommandScopeDefault(),
            language_code=None if locale == "ru" else locale,
        )

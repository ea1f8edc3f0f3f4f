"""Four-eyes approval on the author's draft: another member decides, the author cannot,
two approvers at once decide once; memory and the real Redis storage with its lock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from redis.asyncio import Redis

from bot.dialog.approval import (
    Verdict,
    approval_required,
    cast_vote,
    decide,
    is_pending,
    open_request,
    owner_key,
    withdraw,
)
from bot.drafts import Signer
from bot.presets import Presets

ANNA, BORIS, VERA = 1001, 1002, 1003
GROUP = -1001000000001
BOT_ID = 42


def draft() -> dict[str, Any]:
    data = {"owner": ANNA, "dialog": "abc123", "rev": 4, "name": "Долги"}
    open_request(data, chat_id=GROUP, thread_id=None, now=1.0)
    return data


def test_the_rule_is_per_chat_or_per_scenario() -> None:
    presets = Presets.model_validate({
        "scenarios": [{"key": "debt", "title": "Долги", "project_id": 1, "start_block_id": 2,
                       "approval": True},
                      {"key": "poll", "title": "Опрос", "project_id": 1, "start_block_id": 3}],
        "callers": [{"title": "Основной", "phone_id": 5}],
        "chats": {str(GROUP): {"approval": True}},
    })
    assert approval_required(presets, GROUP, "poll")
    assert approval_required(presets, -5, "debt")
    assert not approval_required(presets, -5, "poll")
    assert not approval_required(presets, ANNA, None)


def test_decide() -> None:
    data = draft()
    def vote(on: dict[str, Any], voter: int, value: str = "y", dialog: str = "abc123") -> Verdict:
        return decide(on, dialog=dialog, voter_id=voter, voter_name=str(voter), vote=value)

    assert vote(data, ANNA) == Verdict.SELF
    assert is_pending(data)
    assert vote(data, BORIS, dialog="other") == Verdict.GONE
    assert vote({}, BORIS) == Verdict.GONE
    assert decide(data, dialog="abc123", voter_id=BORIS, voter_name="Борис", vote="y") == (
        Verdict.APPROVED
    )
    assert data["approval"]["by"] == BORIS and data["approval"]["by_name"] == "Борис"
    assert decide(data, dialog="abc123", voter_id=VERA, voter_name="Вера", vote="n") == (
        Verdict.DECIDED
    )
    declined = draft()
    assert decide(declined, dialog="abc123", voter_id=VERA, voter_name="Вера", vote="n") == (
        Verdict.DECLINED
    )
    assert declined["approval"]["state"] == "declined"
    pending = draft()
    assert withdraw(pending) is not None and not is_pending(pending)


@pytest.fixture(params=["memory", "redis"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Any, Any]]:
    if request.param == "memory":
        yield MemoryStorage(), SimpleEventIsolation()
        return
    from bot.app import DraftRedisStorage
    from bot.isolation import RenewingRedisEventIsolation

    redis = Redis.from_url(request.getfixturevalue("redis_url"))
    prefix = request.getfixturevalue("redis_prefix")
    storage = DraftRedisStorage(redis, key_prefix=prefix, ttl=60, list_prefix=f"{prefix}:list",
                                signer=Signer(b"0123456789abcdef0123"))
    yield storage, RenewingRedisEventIsolation(redis, storage.key_builder)
    await redis.aclose()


async def test_two_approvers_at_once_decide_once(backend: tuple[Any, Any]) -> None:
    storage, isolation = backend
    key = owner_key(BOT_ID, ANNA)
    await FSMContext(storage=storage, key=key).set_data(draft())
    submitted: list[dict[str, Any]] = []

    async def on_decided(state: FSMContext, data: dict[str, Any], verdict: Verdict) -> None:
        await asyncio.sleep(0.05)  # a submission takes a while: the other vote waits
        data["submit"] = "in_flight"
        await state.set_data(data)
        submitted.append(data)

    async def vote(voter: int, name: str) -> Verdict:
        result = await cast_vote(storage=storage, isolation=isolation, key=key, dialog="abc123",
                                 voter_id=voter, voter_name=name, vote="y",
                                 on_decided=on_decided)
        return result.verdict

    verdicts = await asyncio.gather(vote(BORIS, "Борис"), vote(VERA, "Вера"),
                                    vote(ANNA, "Анна"))
    assert sorted(verdicts) == sorted([Verdict.APPROVED, Verdict.DECIDED, Verdict.SELF])
    assert len(submitted) == 1
    stored = await FSMContext(storage=storage, key=key).get_data()
    assert stored["approval"]["state"] == "approved" and stored["submit"] == "in_flight"


async def test_a_vote_on_an_expired_draft_changes_nothing(backend: tuple[Any, Any]) -> None:
    storage, isolation = backend
    called: list[Verdict] = []

    async def on_decided(state: FSMContext, data: dict[str, Any], verdict: Verdict) -> None:
        called.append(verdict)

    result = await cast_vote(storage=storage, isolation=isolation, key=owner_key(BOT_ID, ANNA),
                             dialog="abc123", voter_id=BORIS, voter_name="Борис", vote="y",
                             on_decided=on_decided)
    assert result.verdict == Verdict.GONE and called == []

"""The real `python -m bot` process on Redis as docs/runtime.md says to run it: its own ACL
user with a password, limited to the bot's key prefix and the commands it uses. A whole
campaign goes through; a list forged into Redis is refused; nothing secret is logged."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis.asyncio as aioredis

from tests.dialog.flows import CREATE, CREATED, SKIP, SUMMARY, TOMORROW
from tests.fakes.campaign_api import FakeCampaignApi
from tests.fakes.telegram_api import Chat, FakeTelegram
from tests.runtime.conftest import ANNA, BotProcess, assert_clean_log, wait_until
from tests.runtime.test_process import Driver

pytestmark = [pytest.mark.redis, pytest.mark.e2e]

START = 40.0
STEP = 20.0
# docs/runtime.md, "Redis for this bot": the tight variant, with this test's prefix.
ACL_RULES = (
    "reset on resetchannels -@all +@connection -@dangerous "
    "+get +set +mget +del +expire +exists +hset +hdel +hgetall +multi +exec "
    "+evalsha +script|load"
)


@pytest.fixture
async def acl_redis_url(redis_url: str, redis_prefix: str) -> AsyncIterator[str]:
    """A Redis user of this test's own, allowed only `<redis_prefix>:*`; deleted after."""
    user = f"campaign-bot-{secrets.token_hex(4)}"
    password = f"pw-{secrets.token_hex(16)}"
    admin = aioredis.Redis.from_url(redis_url)
    try:
        await admin.execute_command(
            "ACL", "SETUSER", user, *ACL_RULES.split(), f">{password}", f"~{redis_prefix}:*"
        )
        parts = urlsplit(redis_url)
        netloc = f"{user}:{password}@{parts.hostname}:{parts.port or 6379}"
        yield urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    finally:
        await admin.execute_command("ACL", "DELUSER", user)
        await admin.aclose()


async def test_a_campaign_under_the_documented_acl_with_a_forged_list_refused(
    bot_process: Callable[..., BotProcess],
    fake_telegram: FakeTelegram,
    campaign_api: FakeCampaignApi,
    acl_redis_url: str,
    redis_url: str,
    redis_prefix: str,
) -> None:
    password = urlsplit(acl_redis_url).password
    assert password
    # The user cannot reach other keys: the ACL is really in force.
    limited = aioredis.Redis.from_url(acl_redis_url)
    try:
        with pytest.raises(aioredis.ResponseError, match="no permissions"):
            await limited.get("someone-else:key")
    finally:
        await limited.aclose()

    chat = fake_telegram.add_chat(Chat.private(ANNA))
    driver = Driver(fake_telegram, chat, ANNA)
    bot = await bot_process(REDIS_URL=acl_redis_url)
    await fake_telegram.wait_polling(timeout=START)
    await driver.say("/new")
    await driver.say("Обзвон user=79161234567 +7–916–123–45–67")
    await driver.press(SKIP)
    await driver.press(TOMORROW)
    await driver.say("9-18")
    await driver.say("3")
    await driver.say("15")
    await driver.say("+79161234567, 8 916 123-45-68")
    first = await fake_telegram.wait_for_message(
        chat.id, lambda m: SUMMARY in (m.text or ""), timeout=STEP
    )

    # Forge the stored list (someone else writing into the bot's Redis keys).
    admin = aioredis.Redis.from_url(redis_url)
    try:
        # Two stored values: the list and its numbers' zones (bot/dialog/calling.py).
        list_keys = [k async for k in admin.scan_iter(match=f"{redis_prefix}:list:*")]
        assert len(list_keys) == 2
        for list_key in list_keys:
            await admin.set(list_key, b"\x00" * 64)
    finally:
        await admin.aclose()
    await driver.press(CREATE)
    expired = await fake_telegram.wait_for_message(
        chat.id, lambda m: "Срок хранения списка" in (m.text or ""), timeout=STEP
    )
    # The submission runs after the press is handled: answer only once the list is asked.
    await fake_telegram.wait_for_message(
        chat.id,
        lambda m: m.message_id >= expired.message_id and "Пришлите список" in (m.text or ""),
        timeout=STEP,
    )
    assert campaign_api.campaign_requests == []

    await driver.say("+79161234567")
    await fake_telegram.wait_for_message(
        chat.id,
        lambda m: m.message_id > first.message_id and SUMMARY in (m.text or ""),
        timeout=STEP,
    )
    await driver.press(CREATE)
    await wait_until(lambda: campaign_api.created, timeout=STEP)
    [campaign_id] = campaign_api.created
    await fake_telegram.wait_for_message(
        chat.id, lambda m: f"{CREATED} {campaign_id}" in (m.text or ""), timeout=STEP
    )
    body = campaign_api.campaign_requests[0].json
    assert [p["phone"] for p in body["phones"]] == ["+79161234567"]

    log = bot.output()
    assert "no permissions" not in log and "Traceback" not in log
    assert password not in log
    assert "failed its integrity check" in log
    # The audit line: ids readable, the phones in the campaign's name are not.
    [audit] = [line for line in log.splitlines() if "campaign created" in line]
    assert f"user={ANNA.id} chat={chat.id}" in audit
    assert "4567" not in audit and "45–67" not in audit
    assert_clean_log(log)

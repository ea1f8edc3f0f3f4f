"""Helpers shared by the isolation / outage / redelivery tests."""

from __future__ import annotations

from bot.i18n import create_i18n

BUSY_MSGID = "One moment, please tap again"
REDIS_DOWN_MSGID = "Service temporarily unavailable, try again in a minute"


def ru(msgid: str) -> str:
    """What a Russian user reads for `msgid`, from the compiled catalog."""
    i18n = create_i18n("ru")
    return i18n.gettext(msgid, locale="ru")

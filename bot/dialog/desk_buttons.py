"""Callback data of the team desk's buttons: the result card, history pages, approval.

Each stays within Telegram's 64 bytes: ids are numbers or 12-character record ids.
"""

from aiogram.filters.callback_data import CallbackData


class Repeat(CallbackData, prefix="rp"):
    """«Repeat» on a card or a history entry: a new private draft from record `rec`."""

    rec: str


class HistoryPage(CallbackData, prefix="hp"):
    """A page of the history of `chat` (a group), or of the presser's own (`chat` = 0)."""

    chat: int
    page: int


class Vote(CallbackData, prefix="av"):
    """Approve ("y") or decline ("n") `owner`'s draft `dialog`, from the group's card."""

    owner: int
    dialog: str
    vote: str

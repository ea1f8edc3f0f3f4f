"""Callback data of every button; each stays well within Telegram's 64 bytes.

`owner` and `dialog` tie a button to one user's one draft: anyone else's press, or a
press on a finished dialog, is recognised and changes nothing.
"""

from aiogram.filters.callback_data import CallbackData


class Answer(CallbackData, prefix="a"):
    owner: int
    dialog: str
    field: str
    value: str


class Back(CallbackData, prefix="b"):
    owner: int
    dialog: str
    field: str


class CalendarPage(CallbackData, prefix="c"):
    owner: int
    dialog: str
    month: str  # YYYY-MM


class SummaryAction(CallbackData, prefix="s"):
    owner: int
    dialog: str
    rev: int
    action: str  # create | edit | cancel | retry | resend | show


class Quit(CallbackData, prefix="q"):
    """«Cancel» under a question: the draft is dropped (as /cancel)."""

    owner: int
    dialog: str


class EditField(CallbackData, prefix="e"):
    owner: int
    dialog: str
    field: str


class DraftChoice(CallbackData, prefix="d"):
    """/new over an open draft: continue it, start over, or start a new one beside a
    submission in flight."""

    owner: int
    dialog: str
    action: str  # continue | restart | beside


class PickLanguage(CallbackData, prefix="l"):
    owner: int
    locale: str


class Ignore(CallbackData, prefix="n"):
    """Inert calendar cells (weekday names, past days)."""


class ListChoice(CallbackData, prefix="p"):
    """Read the draft's list file again another way: `kind` "col" (only that phone
    column) or "sheet", `index` its position in the file (never a name: 64 bytes).
    `file` is the upload's number in the draft: a newer upload makes the button stale."""

    owner: int
    dialog: str
    file: int
    kind: str
    index: int

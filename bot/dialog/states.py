"""Step codes and the FSM states of the dialog.

A step's code is short: it travels inside 64-byte callback data and in stored drafts.
What a step means (its question, answer, rules) is in bot/dialog/steps.py, the table.
"""

from enum import StrEnum

from aiogram.fsm.state import State, StatesGroup


class StepCode(StrEnum):
    SCENARIO = "sc"
    CALLER = "cl"
    NAME = "nm"
    DESCRIPTION = "ds"
    DATE = "dt"
    WINDOW = "wn"
    ATTEMPTS = "at"
    INTERVAL = "iv"
    PHONES = "ph"


class CampaignForm(StatesGroup):
    scenario = State()
    caller = State()
    name = State()
    description = State()
    date = State()
    window = State()
    attempts = State()
    interval = State()
    phones = State()
    summary = State()


class ResumeForm(StatesGroup):
    """/new over an open draft: continue it or start over (the draft's state is kept in
    its data as `resume_state`)."""

    choose = State()


class LanguageForm(StatesGroup):
    choose = State()

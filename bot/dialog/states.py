"""The campaign wizard's steps, in the order they are asked."""

from aiogram.fsm.state import State, StatesGroup


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


# Field codes are short: they travel inside 64-byte callback data.
FIELD_STATES: dict[str, State] = {
    "sc": CampaignForm.scenario,
    "cl": CampaignForm.caller,
    "nm": CampaignForm.name,
    "ds": CampaignForm.description,
    "dt": CampaignForm.date,
    "wn": CampaignForm.window,
    "at": CampaignForm.attempts,
    "iv": CampaignForm.interval,
    "ph": CampaignForm.phones,
}
STEP_ORDER: tuple[str, ...] = tuple(FIELD_STATES)
STATE_FIELDS: dict[str, str] = {state.state: code for code, state in FIELD_STATES.items()}

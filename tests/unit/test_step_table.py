"""The step table is the one description of the wizard: every code has one entry, in the
order of the FSM states, with a Draft field that exists; navigation follows it."""

from __future__ import annotations

from bot.dialog.callbacks import Answer, EditField
from bot.dialog.draft import Draft
from bot.dialog.states import CampaignForm, StepCode
from bot.dialog.steps import (
    BY_STATE,
    STEPS,
    SUMMARY,
    asked_steps,
    first_missing,
    position,
    step_after,
    step_before,
)


def test_one_entry_per_code_in_the_states_order() -> None:
    assert [s.code for s in STEPS] == list(StepCode)
    form_states = [s for s in CampaignForm.__states__ if s is not CampaignForm.summary]
    assert [s.state for s in STEPS] == form_states
    assert set(BY_STATE) == {s.state for s in form_states}
    for step in STEPS:
        assert step.field in Draft.model_fields, step.code
        # A code travels in callback data: the longest button stays within 64 bytes.
        data = Answer(owner=10**12, dialog="ffffff", field=step.code, value="2026-12-31")
        assert len(data.pack().encode()) <= 64
        assert len(EditField(owner=10**12, dialog="ffffff", field=step.code).pack()) <= 64


def test_navigation_follows_presets_and_the_skip_rule() -> None:
    draft = Draft(owner=1, dialog="abc123", scenario="s", caller="c", preset=["sc", "cl"])
    assert step_after(None, draft) == StepCode.NAME
    assert step_before(StepCode.NAME, draft) is None
    assert position(StepCode.NAME, draft) == (1, 7)
    draft.attempts = 1  # one attempt: no interval to ask
    assert step_after(StepCode.ATTEMPTS, draft) == StepCode.PHONES
    assert position(StepCode.PHONES, draft) == (6, 6)
    assert StepCode.INTERVAL not in [s.code for s in asked_steps(draft)]
    assert first_missing(draft) == StepCode.NAME
    draft.attempts = 3
    draft.name, draft.date, draft.phones_ref = "N", "2026-12-02", "ref"
    draft.start, draft.end = "09:00", "18:00"
    assert first_missing(draft) == StepCode.INTERVAL  # required once attempts > 1
    draft.interval = 15
    assert first_missing(draft) is None
    assert step_after(StepCode.PHONES, draft) == SUMMARY

"""The wizard's steps, in the order they are asked: one table.

Each `Step` says everything the dialog needs to know of one step: its FSM state, the
draft field its answer goes to, its label (summary «Edit», folded answers), its question
builder, its applier (parser), when it is skipped, when it counts as answered, and the
words that name it in a typed «edit» at the summary. Navigation (next, previous, first
missing, the «step 3 of 8» counter) is computed from the table alone.

To add a step: a code in `StepCode` and a state in `CampaignForm` (bot/dialog/states.py),
a field in `Draft` (a migration if stored drafts must change), a builder in questions.py,
an applier in answers.py, the entry below, and its texts in the catalogs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from aiogram import html
from aiogram.fsm.state import State
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date

from bot.dialog import answers, questions
from bot.dialog.answers import AnswerContext
from bot.dialog.draft import Draft
from bot.dialog.questions import AskContext, Question, interval_label
from bot.dialog.render import clip, number
from bot.dialog.states import CampaignForm, StepCode

SUMMARY = "summary"  # where navigation ends: not a step, the summary screen


def _never(draft: Draft) -> bool:
    return False


def _one_attempt(draft: Draft) -> bool:
    return draft.attempts == 1  # one attempt: no interval to ask


def _has(field: str) -> Callable[[Draft], bool]:
    def answered(draft: Draft) -> bool:
        return bool(getattr(draft, field))

    return answered


def _optional(draft: Draft) -> bool:
    return True


@dataclass(frozen=True)
class Step:
    code: StepCode
    state: State
    field: str  # the Draft attribute holding the answer
    label: Callable[[], str]  # lazy: in the reader's language
    ask: Callable[[AskContext], Question]
    # None: answered by its own handlers (the list step reads files).
    apply: Callable[[Draft, str, AnswerContext], None] | None
    fold: Callable[[Draft, AskContext], str]  # the answer in one short line
    skip: Callable[[Draft], bool] = _never  # presets skip steps too (Draft.preset)
    answered: Callable[[Draft], bool] = _optional  # required steps say when they are done
    aliases: frozenset[str] = frozenset()  # typed at the summary: edit this step


def _fold_date(draft: Draft, ctx: AskContext) -> str:
    assert draft.date
    return format_date(dt.date.fromisoformat(draft.date), "EEE, d MMMM", locale=ctx.locale)


def _fold_scenario(draft: Draft, ctx: AskContext) -> str:
    scenario = ctx.presets.scenario(draft.scenario)
    return html.quote(scenario.title) if scenario else ""


def _fold_caller(draft: Draft, ctx: AskContext) -> str:
    caller = ctx.presets.caller(draft.caller)
    return html.quote(caller.title) if caller else ""


STEPS: tuple[Step, ...] = (
    Step(
        StepCode.SCENARIO,
        CampaignForm.scenario,
        "scenario",
        lambda: _("Scenario"),
        questions.ask_scenario,
        answers.apply_scenario,
        _fold_scenario,
        answered=_has("scenario"),
        aliases=frozenset({"сценарий"}),
    ),
    Step(
        StepCode.CALLER,
        CampaignForm.caller,
        "caller",
        lambda: _("Caller"),
        questions.ask_caller,
        answers.apply_caller,
        _fold_caller,
        answered=_has("caller"),
        aliases=frozenset({"номер звонящего", "звонящий"}),
    ),
    Step(
        StepCode.NAME,
        CampaignForm.name,
        "name",
        lambda: _("Name"),
        questions.ask_name,
        answers.apply_name,
        lambda d, c: html.quote(clip(d.name or "", 60)),
        answered=_has("name"),
        aliases=frozenset({"название", "имя"}),
    ),
    Step(
        StepCode.DESCRIPTION,
        CampaignForm.description,
        "description",
        lambda: _("Description"),
        questions.ask_description,
        answers.apply_description,
        lambda d, c: html.quote(clip(d.description, 40)) if d.description else _("no description"),
        aliases=frozenset({"описание"}),
    ),
    Step(
        StepCode.DATE,
        CampaignForm.date,
        "date",
        lambda: _("Date"),
        questions.ask_date,
        answers.apply_date,
        _fold_date,
        answered=_has("date"),
        aliases=frozenset({"дата"}),
    ),
    Step(
        StepCode.WINDOW,
        CampaignForm.window,
        "start",
        lambda: _("Time"),
        questions.ask_window,
        answers.apply_window,
        lambda d, c: f"{d.start}–{d.end}",
        answered=_has("start"),
        aliases=frozenset({"время", "окно"}),
    ),
    Step(
        StepCode.ATTEMPTS,
        CampaignForm.attempts,
        "attempts",
        lambda: _("Attempts"),
        questions.ask_attempts,
        answers.apply_attempts,
        lambda d, c: _("attempts: {value}").format(value=d.attempts),
        answered=_has("attempts"),
        aliases=frozenset({"попытки"}),
    ),
    Step(
        StepCode.INTERVAL,
        CampaignForm.interval,
        "interval",
        lambda: _("Interval"),
        questions.ask_interval,
        answers.apply_interval,
        lambda d, c: _("every {interval}").format(interval=interval_label(d.interval or 0)),
        skip=_one_attempt,
        answered=lambda d: d.interval is not None,
        aliases=frozenset({"интервал"}),
    ),
    Step(
        StepCode.PHONES,
        CampaignForm.phones,
        "phones_ref",
        lambda: _("Phone list"),
        questions.ask_phones,
        None,
        lambda d, c: _("numbers: {value}").format(value=number(d.phones_count or 0, c.locale)),
        answered=_has("phones_ref"),
        aliases=frozenset({"список", "номера", "телефоны", "файл"}),
    ),
)

BY_CODE: dict[str, Step] = {step.code: step for step in STEPS}
BY_STATE: dict[str, Step] = {step.state.state: step for step in STEPS}
STEP_ORDER: tuple[StepCode, ...] = tuple(step.code for step in STEPS)


def step_of_state(raw_state: str | None) -> Step | None:
    return BY_STATE.get(raw_state or "")


def is_skipped(code: str, draft: Draft) -> bool:
    return code in draft.preset or BY_CODE[code].skip(draft)


def asked_steps(draft: Draft) -> list[Step]:
    """The steps this draft asks, in order (its «of 8»)."""
    return [step for step in STEPS if not is_skipped(step.code, draft)]


def step_after(code: str | None, draft: Draft) -> str:
    index = -1 if code is None else STEP_ORDER.index(StepCode(code))
    for step in STEPS[index + 1 :]:
        if not is_skipped(step.code, draft):
            return step.code
    return SUMMARY


def step_before(code: str, draft: Draft) -> str | None:
    index = STEP_ORDER.index(StepCode(code))
    for step in reversed(STEPS[:index]):
        if not is_skipped(step.code, draft):
            return step.code
    return None


def first_missing(draft: Draft) -> str | None:
    """A required step the draft has no answer for (an edit made it invalid or needed)."""
    for step in asked_steps(draft):
        if not step.answered(draft):
            return step.code
    return None


def is_editable(code: str, draft: Draft) -> bool:
    """The summary's «Edit» offers these steps; presets fix the others."""
    return code in BY_CODE and not is_skipped(code, draft)


def position(code: str, draft: Draft) -> tuple[int, int]:
    """(n, total) for «step n of total»."""
    asked = [step.code for step in asked_steps(draft)]
    return asked.index(StepCode(code)) + 1, len(asked)


def step_by_name(word: str, draft: Draft) -> str | None:
    """A step named by a word typed at the summary (its label or an alias)."""
    for step in asked_steps(draft):
        if word == step.label().lower() or word in step.aliases:
            return step.code
    return None


def folded_answers(code: str, draft: Draft, ctx: AskContext) -> list[str]:
    """One line per step answered before `code`: «✓ 2 December»."""
    lines = []
    for step in asked_steps(draft):
        if step.code == code:
            break
        if step.answered(draft) and (text := step.fold(draft, ctx)):
            lines.append(f"✓ {text}")
    return lines

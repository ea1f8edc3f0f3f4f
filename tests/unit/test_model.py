import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.campaigns.model import Attempts, Periods, Schedule, build_request

DATA = Path(__file__).resolve().parents[1] / "data"


def example(**overrides):
    values = dict(
        project_id=1,
        start_block_id=10,
        phone_id=5,
        name="Обзвон клиентов",
        description="Обзвон клиентов для опроса удовлетворенности",
        date="2000-01-01",
        start_time="09:00",
        end_time="17:00",
        attempts=1,
        interval_minutes=5,
        phones=[
            {"phone": "+79999999999", "add_data": {"name": "Иванов Иван", "time": "10:00",
                                                   "phone": 123456}}
        ],
    )
    values.update(overrides)
    return build_request(**values)


def test_document_example_is_reproduced_exactly() -> None:
    expected = json.loads((DATA / "campaign-api.example-request.json").read_text("utf-8"))
    request = example()
    assert json.loads(request.to_json()) == expected
    assert request.to_dict() == expected


@pytest.mark.parametrize(
    "overrides",
    [
        {"date": "2026-02-30"},
        {"date": "28.11.2026"},
        {"start_time": "9:00"},
        {"end_time": "24:00"},
        {"start_time": "17:00", "end_time": "09:00"},
        {"start_time": "09:00", "end_time": "09:00"},
        {"attempts": 0},
        {"attempts": 6},
        {"interval_minutes": 5.5},
        {"interval_minutes": "5"},
        {"phones": []},
        {"phones": [{"phone": "89161234567", "add_data": {}}]},
        {"phones": [{"phone": "+7 916 123 45 67", "add_data": {}}]},
        {"phones": [{"phone": "+79161234567", "add_data": {"vip": True}}]},
        {"phones": [{"phone": "+79161234567", "add_data": {"note": None}}]},
        {"phones": [{"phone": "+79161234567", "add_data": ["x"]}]},
        {"project_id": 0},
        {"name": ""},
    ],
)
def test_model_refuses_what_the_api_would(overrides: dict) -> None:
    with pytest.raises((ValidationError, ValueError)):
        example(**overrides)


def test_attempts_id_and_title_agree() -> None:
    assert Attempts.of(3).model_dump() == {"id": 3, "title": "3"}
    with pytest.raises(ValidationError):
        Attempts(id=2, title="3")


def test_periods_only_once() -> None:
    with pytest.raises(ValidationError):
        Periods(id=2, title="Ежедневно")
    with pytest.raises(ValidationError):
        Schedule(
            date="2026-11-28",
            start_time="09:00",
            end_time="10:00",
            periods={"id": 1, "title": "Ежедневно"},
            attempts={"id": 1, "title": "1"},
            interval="5",
        )

"""Normalization rules of docs/phone-lists.md, and the fast path against libphonenumber."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from bot.phones import REJECT_REASON_RU, REJECT_REASONS, normalize_phone, normalize_value
from bot.phones.column import normalize_column
from bot.phones.normalize import normalize_cell, split_pasted

ACCEPTED = [
    ("+7 (916) 123-45-67", "+79161234567"),
    ("8 916 123 45 67", "+79161234567"),
    ("89161234567", "+79161234567"),
    ("79161234567", "+79161234567"),
    ("9161234567", "+79161234567"),
    ("8(351)247-00-00", "+73512470000"),
    ("8\u00a0916\u00a0123\u00a045\u00a067", "+79161234567"),
    ("   +7 916 123 45 67\t", "+79161234567"),
    ("'+79161234567", "+79161234567"),
    ("'89161234567", "+79161234567"),
    ("8.916.123.45.67", "+79161234567"),
    ("+7-916-123-45-67", "+79161234567"),
    ("8 800 555-35-35", "+78005553535"),
]


@pytest.mark.parametrize(("raw", "e164"), ACCEPTED)
def test_common_forms_accepted_unchanged(raw: str, e164: str) -> None:
    for fn in (normalize_phone, normalize_value):
        got, reason, fixed, region = fn(raw)
        assert (got, reason, fixed, region) == (e164, None, False, "RU"), fn


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("79161234567.0", "+79161234567"),  # a number cell exported as text
        ("9161234567,0", "+79161234567"),
        ("+7 916 123-45-67 доб. 12", "+79161234567"),
        ("8 (916) 123-45-67, доб.123", "+79161234567"),
        ("+7 916 123 45 67 ext. 12", "+79161234567"),
        ("89161234567 x12", "+79161234567"),
        ("89161234567 Ext 7", "+79161234567"),
    ],
)
def test_damaged_forms_fixed(raw: str, e164: str) -> None:
    for fn in (normalize_phone, normalize_value):
        got, reason, fixed, _ = fn(raw)
        assert (got, reason, fixed) == (e164, None, True)


def test_float_tail_is_not_an_eleventh_digit() -> None:
    # "7916123456.0" is the 10-digit number 7916123456 (+7 791..., not a valid range);
    # its ".0" must not turn into an eleventh digit (+79161234560).
    for fn in (normalize_phone, normalize_value):
        assert fn("7916123456.0")[:2] == (None, "invalid")


@pytest.mark.parametrize(
    ("raw", "e164", "region"),
    [
        ("+44 20 7946 0958", "+442079460958", "GB"),
        ("810 44 20 7946 0958", "+442079460958", "GB"),
        ("+380 44 123 4567", "+380441234567", "UA"),
        ("+7 701 123 45 67", "+77011234567", "KZ"),
        ("87011234567", "+77011234567", "KZ"),
        ("+1 (212) 555-0100", "+12125550100", "US"),
        ("+999 123 456 789", None, None),  # no such country code
    ],
)
def test_foreign_numbers(raw: str, e164: str | None, region: str | None) -> None:
    got, reason, _, reg = normalize_value(raw)
    assert got == e164
    if e164:
        assert reg == region
    else:
        assert reason == "invalid"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("'", "empty"),
        ("8916123", "too_short"),
        ("916 123 45", "too_short"),
        ("89161234567890", "too_long"),
        ("+7 916 123 45 6", "too_short"),
        ("+7 916 123 45 678", "too_long"),
        ("8 916 123 45 6O", "letters"),  # Latin O for a zero: no keypad conversion
        ("8-916-CALL-NOW", "letters"),
        ("нет", "letters"),
        ("+7 000 123 45 67", "invalid"),
        ("80001234567", "invalid"),
        ("7,91612E+10", "excel_rounded"),
        ("7.91612E+10", "excel_rounded"),
        ("7.91612e10", "excel_rounded"),
        ("89161234567, 89161234568", "several_numbers"),
        ("89161234567; 8 916 765 43 21", "several_numbers"),
        ("89161234567 / 89161234568", "several_numbers"),
        ("89161234567 89161234568", "several_numbers"),
        ("8 916 123 45 67 или 8 916 765 43 21", "several_numbers"),
        ("91612345678", "bad_format"),  # 11 digits not starting with 7 or 8
        ("+", "bad_format"),
        ("#*#", "bad_format"),
    ],
)
def test_rejections(raw: str, reason: str) -> None:
    for fn in (normalize_phone, normalize_value):
        got, why, fixed, _ = fn(raw)
        assert (got, why, fixed) == (None, reason, False), fn


def test_every_reason_has_russian_text() -> None:
    assert set(REJECT_REASON_RU) == set(REJECT_REASONS)
    assert all(text and text[0].isupper() for text in REJECT_REASON_RU.values())


def test_pasted_text_splitting() -> None:
    text = (
        "+7 (916) 123-45-67, 8 916 123 45 68;89161234569 89161234570\n"
        "\n 9161234571 доб. 5 \r\n123;hello"
    )
    pieces = list(split_pasted(text))
    assert pieces == [
        (1, "+7 (916) 123-45-67"),
        (2, "8 916 123 45 68"),
        (3, "89161234569"),
        (3, "89161234570"),
        (4, "9161234571 доб. 5"),
        (5, "123"),
        (6, "hello"),
    ]


def _reference(raw: str) -> tuple[str | None, str | None]:
    """Straight libphonenumber on the digits, for forms the spec lets through."""
    digits = "".join(c for c in raw if c.isdigit())
    text = ("+" + digits) if raw.lstrip().startswith("+") else digits
    try:
        num = phonenumbers.parse(text, "RU")
    except phonenumbers.NumberParseException:
        return None, None
    if not phonenumbers.is_valid_number(num):
        return None, None
    return (
        phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164),
        phonenumbers.region_code_for_number(num),
    )


def _random_forms(rng: random.Random, count: int) -> list[str]:
    out = []
    for _ in range(count):
        # Numbers from every 3-digit block (valid or not), weighted to real ranges.
        if rng.random() < 0.5:
            nat = rng.choice("3489") + "".join(rng.choice("0123456789") for _ in range(9))
        else:
            nat = "".join(rng.choice("0123456789") for _ in range(10))
        form = rng.randrange(6)
        if form == 0:
            out.append(f"+7 ({nat[:3]}) {nat[3:6]}-{nat[6:8]}-{nat[8:]}")
        elif form == 1:
            out.append("8" + nat)
        elif form == 2:
            out.append("7" + nat)
        elif form == 3:
            out.append(nat)
        elif form == 4:
            out.append(f"8 {nat[:3]} {nat[3:6]} {nat[6:8]} {nat[8:]}")
        else:
            out.append("+7" + nat)
    return out


def test_fast_path_agrees_with_libphonenumber() -> None:
    rng = random.Random(20251215)
    sample = _random_forms(rng, 20_000)
    for raw in sample:
        got, _, _, region = normalize_value(raw)
        ref, ref_region = _reference(raw)
        # 10-digit inputs starting with 7/8 are parsed by libphonenumber the same way.
        assert got == ref, raw
        if ref:
            assert region == ref_region, raw


def test_reference_path_agrees_with_libphonenumber() -> None:
    rng = random.Random(7)
    for raw in _random_forms(rng, 3000):
        got, _, _, region = normalize_phone(raw)
        assert (got, region if got else None) == _reference(raw), raw


@pytest.mark.parametrize("force_python", [True, False])
def test_column_implementations_agree(force_python: bool) -> None:
    rng = random.Random(99)
    texts = _random_forms(rng, 9000)  # over PhoneColumn._PART_ROWS: polars when present
    texts += [t for t, _ in ACCEPTED] + ["", "  ", "7,91612E+10", "+44 20 7946 0958"]
    texts += ["89161234567 доб. 5", "8 916 123 45 6O", texts[0], texts[1], "79161234567.0"]
    # Every branch the vectorized path decides by itself, and near misses it must not.
    for n in range(1, 24):
        digits = "".join(rng.choice("0123456789") for _ in range(n))
        texts += [digits, "7" + digits, "8" + digits, "810" + digits, f"({digits})", "+" + digits]
    texts += [
        "8916 доб. 12",
        "x12",
        "доб. 5",
        "+7 916 123 45 67 #12",
        "8 916 123 45 67 ext.1234567",
        "89161234567 доб. 12'",
        "'89161234567 вн. 3",
        "89161234567, доб.\u00a012",
        "8916123456789012345678",
        "8916 1234567 8916 1234567",
        "810 44 20 7946 0958",
        "\u00a0",
        "''",
        "٨٩١٦١٢٣٤٥٦٧",
        "+7 916 123 45 67 доб 1 доб 2",
        "7.91612E+10",
        # Integers polars' cast takes that are not plain digits for the rules: a sign
        # the separators delete, zeros, one past Int64.
        "-89161234567",
        "-9161234567",
        "-0",
        "0",
        "000",
        "+0",
        "-",
        "+-79161234567",
        "0079161234567",
        "9223372036854775808",
        "+79161234568",
    ]
    blank = texts.index("")  # an empty phone cell in a row with nothing else: skipped
    out = normalize_column(texts, numeric={5}, blank_rows={blank}, columnar=not force_python)
    # Against one-by-one normalization, first occurrence wins.
    seen: dict[str, int] = {}
    rejected = []
    fixed = 0
    for i, t in enumerate(texts):
        e, reason, was_fixed, _ = normalize_value(t)
        if e is None:  # a cell: several numbers / words around one are repaired
            e, reason, was_fixed, _ = normalize_cell(t).norm
        if e is None:
            if not (reason == "empty" and i == blank):
                rejected.append((i, reason, t))
        elif e not in seen:
            seen[e] = i
            fixed += was_fixed or i == 5
    phones = out.phones if out.keys is None else ["+" + str(k) for k in out.keys.to_list()]
    assert phones == list(seen)
    kept = out.keep if out.keep is not None else out.mask.arg_true().to_list()
    assert kept == list(seen.values())
    assert (out.mask is None) is force_python
    assert sorted(out.rejected) == rejected
    assert out.duplicates == len(texts) - len(seen) - len(rejected) - 1
    assert out.fixed == fixed
    assert out.countries.get("GB") == 1
    assert out.countries.get("KZ", 0) > 0


@pytest.mark.parametrize("written", ["plain", "formatted"])
def test_column_implementations_agree_on_uniform_columns(written: str) -> None:
    """A column of plain digits only (the vectorized path then uses no regular
    expression at all) and one with no plain cell (every cell by the whole rules)."""
    rng = random.Random(7)
    texts = []
    for i in range(9000):
        nat = f"9{rng.randrange(10**9):09d}" if i % 50 else f"000{rng.randrange(10**7):07d}"
        if written == "plain":
            texts.append(("+7", "8", "7", "")[i % 4] + nat)
        else:
            texts.append(f"8 ({nat[:3]}) {nat[3:6]}-{nat[6:8]}-{nat[8:]}")
    texts += texts[1:41]  # repeats of valid numbers
    columnar = normalize_column(texts, numeric=set(), blank_rows=set())
    plain = normalize_column(texts, numeric=set(), blank_rows=set(), columnar=False)
    assert ["+" + str(k) for k in columnar.keys.to_list()] == plain.phones
    assert columnar.mask.arg_true().to_list() == plain.keep
    assert sorted(columnar.rejected) == sorted(plain.rejected)
    assert (columnar.duplicates, columnar.fixed, columnar.countries) == (
        plain.duplicates,
        plain.fixed,
        plain.countries,
    )
    assert columnar.duplicates == 40 and plain.rejected

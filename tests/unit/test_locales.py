"""The Russian catalog covers every string in bot/ and keeps its placeholders and markup.

Refresh the catalogs after adding strings (then translate the new ru entries):

    pybabel extract -F babel.cfg -k _ -k __ -k lazy_gettext --sort-output \
        --project campaign-bot -o locales/messages.pot .
    pybabel update -i locales/messages.pot -d locales -D messages --previous
"""

from __future__ import annotations

import re
import string
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
RU_PO = ROOT / "locales" / "ru" / "LC_MESSAGES" / "messages.po"
EN_PO = ROOT / "locales" / "en" / "LC_MESSAGES" / "messages.po"
METHOD_MAP = [("bot/**.py", "python")]
KEYWORDS = {"_": None, "__": None}
RU_PLURAL = "(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2)"

TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
BRACES = re.compile(r"(?<!\{)\{([^{}]*)\}(?!\})")


@cache
def source_msgids() -> dict[str, list[str]]:
    """msgid -> where it is used, straight from the code (not from the .pot file)."""
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=METHOD_MAP, keywords=KEYWORDS
    ):
        msgids = message if isinstance(message, tuple) else (message,)
        for msgid in msgids:
            if msgid:
                found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


@cache
def catalog(path: Path = RU_PO) -> Catalog:
    with path.open("rb") as fp:
        return read_po(fp, locale=path.parent.parent.name, domain="messages")


def translated() -> list[Message]:
    return [m for m in catalog() if m.id and not isinstance(m.id, tuple) and m.string]


def placeholders(text: str) -> set[str]:
    """`{name}`, `{0}`, `{value!r:>5}` as written: the fields str.format fills in."""
    try:
        return {
            "{" + name + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") + "}"
            for _lit, name, spec, conv in string.Formatter().parse(text)
            if name is not None
        }
    except ValueError:  # an unbalanced brace: compare what looks like a field
        return {"{" + inner + "}" for inner in BRACES.findall(text)}


def tags(text: str) -> Counter[str]:
    return Counter(TAG.findall(text))


def lead(text: str) -> str:
    """What comes before the first letter, digit or field: an emoji, «, <, +..."""
    match = re.match(r"[^\w{]*", text)
    return match.group(0).strip() if match else ""


def test_code_has_strings() -> None:
    assert len(source_msgids()) > 50, "extraction found almost nothing: is METHOD_MAP right?"


def test_every_string_in_bot_is_translated_to_russian() -> None:
    ru = catalog()
    problems = []
    for msgid, places in sorted(source_msgids().items()):
        message = ru.get(msgid)
        where = ", ".join(places[:3])
        if message is None:
            problems.append(f"not in ru catalog: {msgid!r} ({where})")
        elif message.fuzzy:
            problems.append(f"fuzzy: {msgid!r} ({where})")
        elif not message.string or (isinstance(message.string, tuple) and not all(message.string)):
            problems.append(f"empty msgstr: {msgid!r} ({where})")
    if problems:
        print("\n".join(problems))
    assert not problems, (
        f"{len(problems)} string(s) need a Russian translation "
        "(refresh: see this module's docstring):\n" + "\n".join(problems)
    )


def test_no_fuzzy_entries_left() -> None:
    fuzzy = [m.id for m in catalog() if m.id and m.fuzzy]
    assert not fuzzy, f"fuzzy entries are ignored at runtime, review them: {fuzzy}"


def test_placeholders_match() -> None:
    bad = [
        f"{m.id!r}: {sorted(placeholders(m.id))} != {sorted(placeholders(m.string))}"
        for m in translated()
        if placeholders(m.id) != placeholders(m.string)
    ]
    assert not bad, "placeholders differ:\n" + "\n".join(bad)


def test_html_tags_match() -> None:
    bad = [
        f"{m.id!r}: {dict(tags(m.id))} != {dict(tags(m.string))}"
        for m in translated()
        if tags(m.id) != tags(m.string)
    ]
    assert not bad, "HTML tags differ:\n" + "\n".join(bad)


def test_line_structure_and_leading_emoji_match() -> None:
    bad = [
        repr(m.id)
        for m in translated()
        if m.id.count("\n") != m.string.count("\n") or lead(m.id) != lead(m.string)
    ]
    assert not bad, "line breaks or the leading emoji/symbol differ:\n" + "\n".join(bad)


def test_ru_header() -> None:
    ru = catalog()
    assert str(ru.locale) == "ru"
    assert ru.num_plurals == 3
    assert ru.plural_expr.replace(" ", "") == RU_PLURAL.replace(" ", "")


def test_en_catalog_is_valid() -> None:
    en = catalog(EN_PO)
    assert str(en.locale) == "en"
    missing = sorted(set(source_msgids()) - {m.id for m in en if m.id})
    assert not missing, f"not in en catalog, run pybabel update: {missing}"


@pytest.mark.parametrize(
    ("msgid", "expected"),
    [
        ("✅ Create", "✅ Создать"),
        ("« Back to summary", "« К сводке"),
        ("📋 <b>Check the campaign</b>", "📋 <b>Проверьте обзвон</b>"),
        ("Numbers: {value}", "Номеров: {value}"),
    ],
    ids=["create", "back-to-summary", "check-heading", "phones"],
)
def test_runtime_catalog(msgid: str, expected: str) -> None:
    from bot.i18n import create_i18n  # only bot.i18n: bot.dialog may be mid-edit

    i18n = create_i18n()
    assert set(i18n.available_locales) >= {"ru", "en"}
    assert i18n.gettext(msgid, locale="ru") == expected
    assert i18n.gettext(msgid, locale="en") == msgid


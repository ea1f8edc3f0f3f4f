"""The fake's formatting parsers: what Telegram would store and what it would reject."""

from __future__ import annotations

import pytest

from tests.fakes.telegram.entities import EntityParseError, bot_command_entities, parse_text


def test_html_entities_use_utf16_offsets() -> None:
    text, entities = parse_text(
        "😀 <b>жирный</b> <a href='https://x.io/?a=1&amp;b=2'>l</a>", "HTML"
    )
    assert text == "😀 жирный l"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 6},
        {"type": "text_link", "offset": 10, "length": 1, "url": "https://x.io/?a=1&b=2"},
    ]


def test_html_character_references() -> None:
    # Only lt/gt/amp/quot and numeric references are decoded; others stay literal, as in tdlib.
    text, _ = parse_text("&lt;&gt;&amp;&quot;&#33;&#x41; &nbsp; a & b", "HTML")
    assert text == '<>&"!A &nbsp; a & b'


def test_html_pre_with_language() -> None:
    text, entities = parse_text('<pre><code class="language-python">x = 1</code></pre>', "HTML")
    assert text == "x = 1"
    assert entities == [{"type": "pre", "offset": 0, "length": 5, "language": "python"}]


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b><i>x</i>", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("<b", "Unclosed start tag at byte offset 0"),
    ],
)
def test_html_errors(html: str, error: str) -> None:
    with pytest.raises(EntityParseError) as raised:
        parse_text(html, "HTML")
    assert str(raised.value) == error


def test_markdown_v2() -> None:
    text, entities = parse_text(r"*bold* _it_ __u__ ||s|| `c` [l](http://x\.io) 1\.5", "MarkdownV2")
    assert text == "bold it u s c l 1.5"
    assert [e["type"] for e in entities] == [
        "bold",
        "italic",
        "underline",
        "spoiler",
        "code",
        "text_link",
    ]
    with pytest.raises(EntityParseError, match=r"Character '\.' is reserved"):
        parse_text("Готово.", "MarkdownV2")
    with pytest.raises(EntityParseError, match="Can't find end of Bold entity"):
        parse_text("*open", "MarkdownV2")


def test_explicit_entities_win_over_parse_mode() -> None:
    entities = [{"type": "bold", "offset": 0, "length": 1}]
    assert parse_text("<b>", "HTML", entities) == ("<b>", entities)


def test_bot_command_entities() -> None:
    assert bot_command_entities("/new@campaign_test_bot now /help") == [
        {"type": "bot_command", "offset": 0, "length": 22},
        {"type": "bot_command", "offset": 27, "length": 5},
    ]
    assert bot_command_entities("a/b") == []

"""Telegram's formatting parsers, close enough to catch what the real API rejects.

Texts are limited *after* entity parsing, and malformed markup is a 400 from Telegram, so
the fake must parse HTML/MarkdownV2 the way tdlib does. Error texts follow tdlib's
``MessageEntity.cpp``; the Bot API prefixes them with "Bad Request: can't parse entities: ".
"""

from __future__ import annotations

import re

__all__ = [
    "EntityParseError",
    "bot_command_entities",
    "parse_text",
    "utf16_len",
]


class EntityParseError(ValueError):
    """The message tdlib would put after "can't parse entities: "."""


def utf16_len(text: str) -> int:
    # Telegram's entity offsets and lengths are in UTF-16 code units.
    return len(text.encode("utf-16-le")) // 2


def parse_text(
    text: str, parse_mode: str | None, entities: list[dict] | None = None
) -> tuple[str, list[dict]]:
    """Return (plain text, entities) as Telegram would store the message."""
    if entities is not None or not parse_mode:
        # Explicit entities win over parse_mode, as in the Bot API.
        return text, list(entities or [])
    mode = parse_mode.lower()
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown_legacy(text)
    raise EntityParseError(f'Unsupported parse_mode "{parse_mode}"')


# --------------------------------------------------------------------------- HTML

_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _decode_html_entity(src: str, pos: int) -> tuple[str | None, int]:
    # tdlib knows only lt/gt/amp/quot and numeric references; anything else (even "&nbsp;")
    # stays literal instead of failing, and the trailing ';' is optional.
    end = pos + 1
    if end < len(src) and src[end] == "#":
        end += 1
        base = 10
        if end < len(src) and src[end] in "xX":
            base = 16
            end += 1
        digits_start = end
        valid = "0123456789abcdefABCDEF" if base == 16 else "0123456789"
        while end < len(src) and src[end] in valid:
            end += 1
        if end == digits_start:
            return None, pos
        code = int(src[digits_start:end], base)
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None, pos
        char = chr(code)
    else:
        while end < len(src) and src[end].isascii() and src[end].isalpha():
            end += 1
        char = _NAMED_ENTITIES.get(src[pos + 1 : end])
        if char is None:
            return None, pos
    if end < len(src) and src[end] == ";":
        end += 1
    return char, end


def _byte_offset(src: str, pos: int) -> int:
    return len(src[:pos].encode())


def parse_html(src: str) -> tuple[str, list[dict]]:
    out: list[str] = []
    out_len = 0  # UTF-16 units emitted so far
    # (tag name, start offset, attributes, byte offset of the tag)
    stack: list[tuple[str, int, dict[str, str], int]] = []
    entities: list[dict] = []
    i, n = 0, len(src)

    def emit(chunk: str) -> None:
        nonlocal out_len
        out.append(chunk)
        out_len += utf16_len(chunk)

    while i < n:
        c = src[i]
        if c == "&":
            char, new_i = _decode_html_entity(src, i)
            if char is not None:
                emit(char)
                i = new_i
                continue
            emit("&")
            i += 1
            continue
        if c != "<":
            j = i
            while j < n and src[j] not in "<&":
                j += 1
            emit(src[i:j])
            i = j
            continue

        begin = i
        i += 1
        if i < n and src[i] == "/":
            i += 1
            j = i
            while j < n and not src[j].isspace() and src[j] != ">":
                j += 1
            name = src[i:j].lower()
            while j < n and src[j].isspace():
                j += 1
            if not stack:
                raise EntityParseError(
                    f"Unexpected end tag at byte offset {_byte_offset(src, begin)}"
                )
            if j >= n or src[j] != ">":
                raise EntityParseError(
                    f"Unclosed end tag at byte offset {_byte_offset(src, begin)}"
                )
            open_name, start, attrs, _ = stack[-1]
            if name != open_name:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(src, begin)}, "
                    f'expected "</{open_name}>", found "</{name}>"'
                )
            stack.pop()
            i = j + 1
            _close_html_entity(entities, open_name, start, out_len - start, attrs)
            continue

        j = i
        while j < n and not src[j].isspace() and src[j] != ">":
            j += 1
        name = src[i:j].lower()
        if name not in _HTML_ENTITY_TYPES:
            raise EntityParseError(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(src, begin)}'
            )
        attrs, i = _parse_html_attributes(src, j, name, begin)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityParseError('Tag "span" must have class "tg-spoiler"')
        stack.append((name, out_len, attrs, _byte_offset(src, begin)))

    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _parse_html_attributes(src: str, i: int, tag: str, begin: int) -> tuple[dict[str, str], int]:
    attrs: dict[str, str] = {}
    n = len(src)
    while True:
        while i < n and src[i].isspace():
            i += 1
        if i >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(src, begin)}")
        if src[i] == ">":
            return attrs, i + 1
        j = i
        while j < n and not src[j].isspace() and src[j] not in "=>":
            j += 1
        attr = src[i:j].lower()
        if not attr:
            raise EntityParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset {_byte_offset(src, begin)}'
            )
        while j < n and src[j].isspace():
            j += 1
        if j >= n or src[j] != "=":
            # Valueless attributes exist (<blockquote expandable>).
            attrs[attr] = ""
            i = j
            continue
        j += 1
        while j < n and src[j].isspace():
            j += 1
        if j < n and src[j] in "\"'":
            quote = src[j]
            end = src.find(quote, j + 1)
            if end == -1:
                raise EntityParseError(
                    f"Unclosed end of attribute value at byte offset {_byte_offset(src, j)}"
                )
            raw, i = src[j + 1 : end], end + 1
        else:
            end = j
            while end < n and not src[end].isspace() and src[end] != ">":
                end += 1
            raw, i = src[j:end], end
        attrs[attr] = _unescape_attr(raw)


def _unescape_attr(raw: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(raw):
        if raw[i] == "&":
            char, new_i = _decode_html_entity(raw, i)
            if char is not None:
                out.append(char)
                i = new_i
                continue
        out.append(raw[i])
        i += 1
    return "".join(out)


def _close_html_entity(
    entities: list[dict], tag: str, offset: int, length: int, attrs: dict[str, str]
) -> None:
    if length <= 0:
        return  # Telegram silently drops empty entities.
    etype = _HTML_ENTITY_TYPES[tag]
    entity: dict = {"type": etype, "offset": offset, "length": length}
    if tag == "a":
        href = attrs.get("href", "")
        if not href:
            return  # <a> without href is plain text in Telegram
        entity["url"] = href
    elif tag == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif tag == "tg-emoji":
        entity["custom_emoji_id"] = attrs.get("emoji-id", "")
    elif tag == "code":
        # <pre><code class="language-x"> sets the pre's language instead of nesting a code.
        lang = attrs.get("class", "")
        for prev in entities:
            if (
                prev["type"] == "pre"
                and prev["offset"] == offset
                and prev["length"] == length
                and lang.startswith("language-")
            ):
                prev["language"] = lang.removeprefix("language-")
                return
        if lang.startswith("language-"):
            # Kept until the enclosing </pre> folds it in (dropped again by the pre branch).
            entity["_language"] = lang.removeprefix("language-")
        entities.append(entity)
        return
    elif tag == "pre":
        # The inner <code> closes first, so fold it into this pre now.
        for prev in list(entities):
            if prev["type"] == "code" and prev["offset"] == offset and prev["length"] == length:
                entities.remove(prev)
                if "_language" in prev:
                    entity["language"] = prev["_language"]
    entities.append(entity)


# ------------------------------------------------------------------------ Markdown

_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MDV2_KINDS = {
    "*": ("bold", "Bold"),
    "_": ("italic", "Italic"),
    "__": ("underline", "Underline"),
    "~": ("strikethrough", "Strikethrough"),
    "||": ("spoiler", "Spoiler"),
}


def parse_markdown_v2(src: str) -> tuple[str, list[dict]]:
    """A compact MarkdownV2 parser: escapes, bold/italic/underline/strike/spoiler,
    inline code, pre blocks, links and '>' quotes; unescaped reserved characters fail
    the way Telegram fails (the most common real-world MarkdownV2 bug)."""
    out: list[str] = []
    out_len = 0
    stack: list[tuple[str, int, int]] = []  # (marker, start offset, byte offset)
    entities: list[dict] = []
    i, n = 0, len(src)

    def emit(chunk: str) -> None:
        nonlocal out_len
        out.append(chunk)
        out_len += utf16_len(chunk)

    while i < n:
        c = src[i]
        if c == "\\" and i + 1 < n and 0 < ord(src[i + 1]) < 127:
            emit(src[i + 1])
            i += 2
            continue
        if src.startswith("```", i):
            end = src.find("```", i + 3)
            if end == -1:
                raise EntityParseError(
                    f"Can't find end of Pre entity at byte offset {_byte_offset(src, i)}"
                )
            body = src[i + 3 : end]
            language = ""
            if "\n" in body:
                first, rest = body.split("\n", 1)
                if first and " " not in first:
                    language, body = first, rest
            body = re.sub(r"\\([`\\])", r"\1", body)
            start = out_len
            emit(body)
            if body:
                ent = {"type": "pre", "offset": start, "length": out_len - start}
                if language:
                    ent["language"] = language
                entities.append(ent)
            i = end + 3
            continue
        if c == "`":
            end = i + 1
            while end < n and src[end] != "`":
                end += 2 if src[end] == "\\" else 1
            if end >= n:
                raise EntityParseError(
                    f"Can't find end of Code entity at byte offset {_byte_offset(src, i)}"
                )
            body = re.sub(r"\\([`\\])", r"\1", src[i + 1 : end])
            start = out_len
            emit(body)
            if body:
                entities.append({"type": "code", "offset": start, "length": out_len - start})
            i = end + 1
            continue
        marker = None
        if src.startswith("__", i):
            marker = "__"
        elif src.startswith("||", i):
            marker = "||"
        elif c in "*_~":
            marker = c
        if marker is not None:
            if stack and stack[-1][0] == marker:
                _, start, _ = stack.pop()
                if out_len > start:
                    entities.append(
                        {"type": _MDV2_KINDS[marker][0], "offset": start, "length": out_len - start}
                    )
            else:
                stack.append((marker, out_len, _byte_offset(src, i)))
            i += len(marker)
            continue
        if c == "[":
            stack.append(("[", out_len, _byte_offset(src, i)))
            i += 1
            continue
        if c == "]" and stack and stack[-1][0] == "[":
            _, start, byte_off = stack.pop()
            if i + 1 >= n or src[i + 1] != "(":
                raise EntityParseError(
                    f"Can't find end of TextUrl entity at byte offset {byte_off}"
                )
            end = i + 2
            url_chars: list[str] = []
            while end < n and src[end] != ")":
                if src[end] == "\\" and end + 1 < n:
                    end += 1
                url_chars.append(src[end])
                end += 1
            if end >= n:
                raise EntityParseError(
                    f"Can't find end of a URL at byte offset {_byte_offset(src, i + 1)}"
                )
            if out_len > start:
                entities.append(
                    {
                        "type": "text_link",
                        "offset": start,
                        "length": out_len - start,
                        "url": "".join(url_chars),
                    }
                )
            i = end + 1
            continue
        if c == ">" and (i == 0 or src[i - 1] == "\n"):
            i += 1  # block quote marker at a line start: allowed, not rendered
            continue
        if c in _MDV2_RESERVED:
            raise EntityParseError(
                f"Character '{c}' is reserved and must be escaped with the preceding '\\'"
            )
        emit(c)
        i += 1

    if stack:
        marker, _, byte_off = stack[-1]
        kind = "TextUrl" if marker == "[" else _MDV2_KINDS[marker][1]
        raise EntityParseError(f"Can't find end of {kind} entity at byte offset {byte_off}")
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def parse_markdown_legacy(src: str) -> tuple[str, list[dict]]:
    """Legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url); no nesting."""
    out: list[str] = []
    out_len = 0
    entities: list[dict] = []
    i, n = 0, len(src)
    kinds = {"*": "bold", "_": "italic", "`": "code"}
    while i < n:
        c = src[i]
        if c == "\\" and i + 1 < n and src[i + 1] in "*_`[":
            out.append(src[i + 1])
            out_len += 1
            i += 2
            continue
        if src.startswith("```", i) or c in kinds:
            marker = "```" if src.startswith("```", i) else c
            end = src.find(marker, i + len(marker))
            if end == -1:
                raise EntityParseError(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(src, i)}"
                )
            body = src[i + len(marker) : end]
            if body:
                etype = "pre" if marker == "```" else kinds[marker]
                entities.append({"type": etype, "offset": out_len, "length": utf16_len(body)})
            out.append(body)
            out_len += utf16_len(body)
            i = end + len(marker)
            continue
        if c == "[":
            m = re.compile(r"\[([^\]]*)\]\(([^)]*)\)").match(src, i)
            if m is None:
                raise EntityParseError(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(src, i)}"
                )
            label = m.group(1)
            if label:
                entities.append(
                    {
                        "type": "text_link",
                        "offset": out_len,
                        "length": utf16_len(label),
                        "url": m.group(2),
                    }
                )
            out.append(label)
            out_len += utf16_len(label)
            i = m.end()
            continue
        out.append(c)
        out_len += utf16_len(c)
        i += 1
    return "".join(out), entities


# -------------------------------------------------------------------- bot commands

_COMMAND_RE = re.compile(r"(?<![^\s])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")


def bot_command_entities(text: str) -> list[dict]:
    """bot_command entities Telegram attaches to a user's text (any "/cmd" or "/cmd@bot")."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: m.start()]),
            "length": utf16_len(m.group()),
        }
        for m in _COMMAND_RE.finditer(text)
    ]

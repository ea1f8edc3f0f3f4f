"""Readers for exports that are not spreadsheets inside: an HTML table (Bitrix24's
"Экспорт в Excel" and some 1C / web reports, saved as .xls) and vCard contacts (.vcf).

Both yield the chunks of readers.py and are bounded as the other readers are: the file
is already at most max_bytes; rows, columns and cell length are checked while parsing,
and what is kept is only the cells of one table (or two cells a contact), so memory is
a small multiple of the file's size.
"""

from __future__ import annotations

import codecs
import quopri
import re
from collections.abc import Iterator, Sequence
from html.parser import HTMLParser

from .errors import IngestError, IngestLimits
from .extent import check_grid
from .normalize import normalize_cell, normalize_value
from .readers import CHUNK_ROWS, Chunk, text_stream
from .sniff import detect_encoding

_FEED_CHARS = 1 << 20  # the parser is fed a megabyte at a time: no second full copy
_SPACE = re.compile(r"\s+")
_BLOCK_TAGS = frozenset(("br", "p", "div", "li"))


# --- charset ---------------------------------------------------------------------------


class _MetaCharset(HTMLParser):
    """<meta charset=…> or <meta http-equiv="Content-Type" content="…; charset=…">."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.charset: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "meta" or self.charset:
            return
        a = {k.lower(): (v or "") for k, v in attrs}
        if a.get("charset"):
            self.charset = a["charset"].strip()
        elif (
            a.get("http-equiv", "").lower() == "content-type"
            and "charset=" in a.get("content", "").lower()
        ):
            content = a["content"]
            self.charset = content[content.lower().index("charset=") + 8 :].strip(" \"';")


def html_encoding(data: bytes) -> str:
    """The page's charset: a BOM, else its <meta>, else judged from the bytes (UTF-8 or
    Windows-1251, as for CSV). An unknown charset name is judged from the bytes too."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    probe = _MetaCharset()
    try:  # Latin-1 keeps every byte: enough to read the ASCII markup of the head
        probe.feed(data[:8192].decode("latin-1"))
    except Exception:
        probe.charset = None
    if probe.charset:
        try:
            name = codecs.lookup(probe.charset).name
        except LookupError:
            name = ""
        if name:
            # Pages saying UTF-8 but written by Russian Windows tools: the bytes decide.
            if name == "utf-8" and detect_encoding(data) == "cp1251":
                return "cp1251"
            return name
    return detect_encoding(data)


# --- HTML tables -----------------------------------------------------------------------


class _TableParser(HTMLParser):
    """Rows of the first top-level <table> holding data; <th> cells are cells like any
    other (the header is found later, as in any table). Nested tables' text belongs to
    the enclosing cell."""

    def __init__(self, limits: IngestLimits) -> None:
        super().__init__(convert_charrefs=True)  # entities decoded, also across feeds
        self.limits = limits
        self.depth = 0
        self.rows: list[list[str]] = []
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.cell_len = 0
        self.found: list[list[str]] | None = None
        self.fallback: list[list[str]] | None = None

    # cells and rows
    def _end_cell(self) -> None:
        if self.cell is not None and self.row is not None:
            text = "".join(self.cell).replace(" \n", "\n").replace("\n ", "\n").strip()
            self.row.append(text)
            if len(self.row) > self.limits.max_columns:
                raise IngestError(
                    "too_many_columns", limit=self.limits.max_columns, row=len(self.rows) + 1
                )
        self.cell = None
        self.cell_len = 0

    def _end_row(self) -> None:
        self._end_cell()
        if self.row is not None:
            self.rows.append(self.row)
            # The header and titles above it are rows too: a little room over max_rows.
            if len(self.rows) > self.limits.max_rows + 1000:
                raise IngestError("too_many_rows", limit=self.limits.max_rows)
        self.row = None

    def _text(self, text: str) -> None:
        assert self.cell is not None
        self.cell.append(text)
        self.cell_len += len(text)
        if self.cell_len > self.limits.max_cell_chars + 64:  # + room for spaces trimmed
            raise IngestError(
                "cell_too_long", row=len(self.rows) + 1, limit=self.limits.max_cell_chars
            )

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.found is not None:
            return
        if tag == "table":
            self.depth += 1
            if self.depth == 1:
                self.rows, self.row, self.cell = [], None, None
            elif self.cell is not None:
                self._text(" ")
            return
        if self.depth == 0:
            return
        if self.depth == 1 and tag == "tr":
            self._end_row()
            self.row = []
        elif self.depth == 1 and tag in ("td", "th"):
            self._end_cell()
            if self.row is None:  # a cell without <tr>: browsers open the row
                self.row = []
            self.cell = []
        elif self.cell is not None and tag in _BLOCK_TAGS:
            self._text("\n")  # <br> between two numbers is a line break in the cell
        elif self.cell is not None and tag in ("td", "th", "tr"):
            self._text(" ")  # a nested table's cells: words of the enclosing cell

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self.found is not None or self.depth == 0:
            return
        if tag == "table":
            if self.depth == 1:
                self._end_row()
                self._close_table()
            self.depth -= 1
        elif self.depth == 1 and tag in ("td", "th"):
            self._end_cell()
        elif self.depth == 1 and tag == "tr":
            self._end_row()

    def handle_data(self, data: str) -> None:
        if self.found is None and self.cell is not None:
            # Source line breaks and indentation are spaces in HTML.
            self._text(_SPACE.sub(" ", data))

    def _close_table(self) -> None:
        filled = sum(1 for r in self.rows if any(r))
        if filled >= 2:  # a title table above the data holds one line: not the list
            self.found = self.rows
        elif filled and self.fallback is None:
            self.fallback = self.rows
        self.rows = []

    def table(self) -> list[list[str]]:
        if self.found is None and self.depth >= 1:  # an unclosed table at the end of file
            self._end_row()
            self._close_table()
        return self.found or self.fallback or []


def read_html(data: bytes, limits: IngestLimits) -> Iterator[Chunk]:
    """Chunks of the first HTML table with data; row numbers are the table's rows."""
    encoding = html_encoding(data)
    parser = _TableParser(limits)
    stream = text_stream(data, encoding)
    try:
        while parser.found is None:
            piece = stream.read(_FEED_CHARS)
            if not piece:
                break
            parser.feed(piece)
        if parser.found is None:
            parser.close()
    except IngestError:
        raise
    except Exception:
        raise IngestError("unreadable", kind="html") from None
    rows = parser.table()
    del parser
    if not rows:
        raise IngestError("empty")
    check_grid(len(rows), max(map(len, rows)), limits)
    return _chunks(rows)


def _chunks(rows: list[Sequence[object]]) -> Iterator[Chunk]:
    for start in range(0, len(rows), CHUNK_ROWS):
        chunk = rows[start : start + CHUNK_ROWS]
        yield chunk, range(start + 1, start + 1 + len(chunk))


# --- vCard -----------------------------------------------------------------------------

VCARD_HEADER = ("Телефон", "Имя")  # the name is add_data key "Имя" (docs/phone-lists.md)
_KEEP = frozenset(("BEGIN", "END", "FN", "N", "TEL", "X-ABLABEL"))
_MOBILE_LABEL = re.compile(r"(?i)mobile|cell|моб|сотов")


def _split_property(line: str) -> tuple[str, str, list[str], str] | None:
    """(group, NAME, params, value) of a logical line; None when it has no colon."""
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            head, value = line[:i], line[i + 1 :]
            break
    else:
        return None
    parts = head.split(";")
    name = parts[0]
    group = ""
    if "." in name:
        group, name = name.rsplit(".", 1)
    return group.upper(), name.strip().upper(), parts[1:], value


def _params(params: list[str]) -> tuple[set[str], bool, str]:
    """(types lower-cased, quoted-printable?, charset) from 2.1 bare and 3.0/4.0 params."""
    types: set[str] = set()
    qp = False
    charset = ""
    for p in params:
        key, _, val = p.partition("=")
        key = key.strip().upper()
        if not _:
            val, key = key, "TYPE"  # vCard 2.1: ";CELL;VOICE"
        val = val.strip().strip('"')
        if key == "TYPE":
            types.update(t.strip().lower() for t in val.split(",") if t.strip())
        elif key == "ENCODING":
            qp = qp or val.upper() in ("QUOTED-PRINTABLE", "QP")
        elif key == "CHARSET":
            charset = val
        if key == "TYPE" and val.upper() == "QUOTED-PRINTABLE":
            qp = True
    return types, qp, charset


def _decode_qp(value: str, charset: str) -> str:
    raw = quopri.decodestring(value.encode("latin-1", "replace"))
    for name in (charset, "utf-8", "cp1251"):
        if not name:
            continue
        try:
            return raw.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return raw.decode("utf-8", "replace")


def _unescape(value: str) -> str:
    out = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            out.append("\n" if nxt in "nN" else nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _logical_lines(data: bytes, limits: IngestLimits) -> Iterator[tuple[int, str]]:
    """(line number, unfolded line): folded continuation lines (a leading space or tab)
    and quoted-printable soft breaks ("=" at the end) joined. Lines of properties that are
    not read (PHOTO, base64 keys: often most of the file) are skipped, not gathered."""
    bound = 8 * limits.max_cell_chars + 1024
    encoding = detect_encoding(data)
    stream = text_stream(data, encoding)
    current: list[str] = []
    size = 0
    start = 0
    keep = False
    qp_open = False
    for number, line in enumerate(stream, start=1):
        line = line.rstrip("\r\n")
        if qp_open or (start and line[:1] in (" ", "\t")):
            if keep:
                if qp_open:  # a soft break: the "=" goes, the next line joins as it is
                    current[-1] = current[-1][:-1]
                    piece = line
                else:  # folding: CRLF and one space or tab
                    piece = line[1:]
                current.append(piece)
                size += len(piece)
                if size > bound:
                    raise IngestError("cell_too_long", row=start, limit=limits.max_cell_chars)
            qp_open = qp_open and line.endswith("=")
            continue
        if current:
            yield start, "".join(current)
        current, size, start = [], 0, number
        head, colon, _ = line.partition(":")
        keep = bool(colon) and head.split(";", 1)[0].rsplit(".", 1)[-1].strip().upper() in _KEEP
        qp_open = bool(colon) and "QUOTED-PRINTABLE" in head.upper() and line.endswith("=")
        if keep:
            current = [line]
            size = len(line)
    if current:
        yield start, "".join(current)


def _valid(value: str) -> bool:
    return normalize_value(value)[0] is not None or normalize_cell(value).norm[0] is not None


def _contact_row(tels: list[tuple[str, bool]], name: str) -> list[str]:
    """The first valid mobile number, else the first valid one, else the first as written
    (a rejected row)."""
    for mobile_only in (True, False):
        for value, mobile in tels:
            if (mobile or not mobile_only) and _valid(value):
                return [value, name]
    return [tels[0][0] if tels else "", name]


def read_vcard(data: bytes, limits: IngestLimits) -> Iterator[Chunk]:
    """One row per contact: [number, name]; row numbers are the BEGIN:VCARD lines."""
    rows: list[Sequence[object]] = [list(VCARD_HEADER)]
    nums: list[int] = [1]
    in_card = False
    tels: list[tuple[str, str, bool]] = []  # (group, value, typed mobile)
    labels: dict[str, str] = {}
    fn = n = ""
    begin = 0
    for number, line in _logical_lines(data, limits):
        prop = _split_property(line)
        if prop is None:
            continue
        group, name, params, value = prop
        if name == "BEGIN" and value.strip().upper() == "VCARD":
            in_card, tels, labels, fn, n, begin = True, [], {}, "", "", number
            continue
        if not in_card:
            continue
        if name == "END" and value.strip().upper() == "VCARD":
            in_card = False
            mobile_groups = {g for g, label in labels.items() if _MOBILE_LABEL.search(label)}
            phones = [(v, mobile or (g != "" and g in mobile_groups)) for g, v, mobile in tels]
            display = fn or n
            if len(display) > limits.max_cell_chars:
                raise IngestError("cell_too_long", row=begin, limit=limits.max_cell_chars)
            rows.append(_contact_row(phones, display))
            nums.append(begin)
            if len(rows) > limits.max_rows + 1:
                raise IngestError("too_many_rows", limit=limits.max_rows)
            continue
        types, qp, charset = _params(params)
        text = _decode_qp(value, charset) if qp else value
        if name == "TEL":
            tel = text.strip()
            if tel.lower().startswith("tel:"):  # vCard 4.0: VALUE=uri
                tel = tel[4:].split(";", 1)[0]
            if tel:
                tels.append((group, tel, bool(types & {"cell", "mobile", "iphone"})))
        elif name == "FN":
            fn = " ".join(_unescape(text).split())
        elif name == "N":
            parts = [" ".join(_unescape(p).split()) for p in re.split(r"(?<!\\);", text)]
            n = " ".join(p for p in (parts[1:2] + parts[:1]) if p)
        elif name == "X-ABLABEL" and group:
            labels[group] = _unescape(text)
    if len(rows) == 1:
        raise IngestError("empty")
    return _vcard_chunks(rows, nums)


def _vcard_chunks(rows: list[Sequence[object]], nums: list[int]) -> Iterator[Chunk]:
    for start in range(0, len(rows), CHUNK_ROWS):
        yield rows[start : start + CHUNK_ROWS], nums[start : start + CHUNK_ROWS]

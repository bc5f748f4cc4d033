"""Make data inert before it reaches a terminal, a markup parser or a spreadsheet.

A location string or a file name is data: it must never act as Rich or Textual markup, an
ANSI/OSC escape sequence (OSC 52 could write the analyst's clipboard, OSC 8 plant a link), a
control character, or a spreadsheet formula.

What `plain` removes or changes, and why:

* escape sequences, whole: CSI (``ESC [`` ... final byte), OSC (``ESC ]`` ... BEL or ST, or
  unterminated: then everything to the next ESC goes), DCS/SOS/PM/APC strings, any other
  two-byte ``ESC x``, and the 8-bit forms of CSI and OSC (U+009B, U+009D; for ``DCS`` U+0090,
  ``SOS`` U+0098, ``PM`` U+009E, ``APC`` U+009F: the introducer goes, and what followed it
  is left as inert text);
* every other C0 and C1 control character and DEL; new lines, carriage returns, tabs and the
  Unicode line/paragraph separators (U+2028, U+2029) become one space, so a value stays on
  its line;
* Unicode bidirectional embedding, override and isolate controls (U+202A-U+202E,
  U+2066-U+2069): they reorder what the terminal shows ("Trojan Source"), so a file name
  ending ``U+202E vsc.exe`` would read ``exe.csv``. They are stripped. Right-to-left text itself
  (Arabic, Hebrew, Urdu place names) is kept, and so are the invisible joiners ZWJ/ZWNJ
  (U+200D/U+200C), which emoji and several scripts need and which cannot hide or move text;
* lone surrogates (from file names that are not valid UTF-8) become U+FFFD, because writing
  them to a UTF-8 terminal raises an error;
* long values are cut to `max_len` characters with an ellipsis.
"""
from __future__ import annotations

import re

# CSI, OSC (terminated by BEL or ST), other ESC sequences, and their 8-bit (C1) forms.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI ... final byte
    r"|\x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC ... BEL or ST (or unterminated)
    r"|\x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?"  # DCS/SOS/PM/APC strings
    r"|\x1b."  # any other two-byte escape
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
    r"|\x9d[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # 8-bit OSC
)
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\t\u2028\u2029\x0b\x0c\x85]")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_LINE_BREAKS_KEPT = re.compile(r"\r\n|[\r\n\u2028\u2029\x0b\x0c\x85]")
_CONTROLS_BUT_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_RICH_PLAIN_BRACKET = re.compile(r"(\\+)\[(?![a-z#/@][^\[]*?\])")


def plain(text: object, max_len: int | None = 200, lines: bool = False) -> str:
    """Strip escape sequences, control and bidi-override characters; one line; truncate.

    This is THE sanitiser: every place that prints data (tables, notifications, clipboard
    text, CLI output, error lines) goes through it, directly or through the helpers below.
    lines=True keeps new lines and tabs (a briefing or a table copied to the clipboard, a
    notification of several lines); a carriage return still becomes a new line, so no line can
    overwrite another.
    """
    s = "" if text is None else str(text)
    if not (s.isascii() and s.isprintable()):  # printable ASCII (most data) has nothing to strip
        s = _clean(s, lines)
    if max_len is not None and len(s) > max_len:
        s = s[: max_len - 1] + "…" if max_len >= 1 else ""
    return s


def _clean(s: str, lines: bool) -> str:
    s = _SURROGATES.sub("\ufffd", s)
    s = _ESCAPES.sub("", s)
    if lines:
        s = _LINE_BREAKS_KEPT.sub("\n", s)
        s = _CONTROLS_BUT_LINES.sub("", s)
    else:
        s = _LINE_BREAKS.sub(" ", s)
        s = _CONTROLS.sub("", s)
    return _BIDI.sub("", s)


def block(text: object) -> str:
    """plain() for text of several lines (clipboard text, a notification): lines and tabs kept."""
    return plain(text, None, lines=True)


class InertOutput:
    """Mixin for the Textual app: notifications and clipboard text always go through plain().

    Screens phrase notices with data in them ("Copied the briefing for <name>", a header line
    quoted in "Could not re-read the sources"); catching them here, where every notice and
    every copy passes, means no call site can forget. (Markup: call sites that quote data pass
    markup=False, or escape it with textual_markup_safe.)
    """

    def notify(self, message, *, title="", severity="information", timeout=None, markup=True):
        return super().notify(block(message), title=plain(title, 200), severity=severity,
                              timeout=timeout, markup=markup)

    def copy_to_clipboard(self, text: str) -> None:
        return super().copy_to_clipboard(block(text))


def markup_safe(text: object, max_len: int | None = 200) -> str:
    """plain() and then escape **Rich** markup, for use inside a Rich markup string.

    Textual (2.0 and later) parses its own markup with different rules (``[$x]`` and
    ``[ x]`` are tags there, and backslashes work differently): inside a Textual markup string
    use `textual_markup_safe`, or better, give widgets a `text()` object instead of a string.
    """
    from rich.markup import escape

    s = escape(plain(text, max_len))
    # rich.markup.escape only looks at tag-like brackets. Rich also reads "\\[" before any other
    # bracket as an escaped "[" (dropping the backslash), and a run of backslashes at the end
    # decides whether the template's next tag is a tag: keep both literal.
    s = _RICH_PLAIN_BRACKET.sub(lambda m: m.group(1) + "\\[", s)
    tail = len(s) - len(s.rstrip("\\"))
    if tail:
        raw_tail = len(plain(text, max_len)) - len(plain(text, max_len).rstrip("\\"))
        s = s[: len(s) - tail] + "\\" * (2 * raw_tail)
    return s


def textual_markup_safe(text: object, max_len: int | None = 200) -> str:
    """plain() and then escape **Textual** markup (Static.update, Label, notify(markup=True)).

    Textual opens a tag at any ``[`` not preceded by a backslash and shows ``\\[`` as ``[``;
    other backslashes are literal. A trailing backslash would escape the template's next tag,
    so it gets an invisible zero-width space after it.
    """
    s = plain(text, max_len).replace("[", "\\[")
    if s.endswith("\\"):
        s += "\u200b"
    return s


def text(value: object, max_len: int | None = 200, style: str = ""):
    """A rich Text holding `value` as literal characters (DataTable treats str cells as markup)."""
    from rich.text import Text

    return Text(plain(value, max_len), style=style)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~])")


def markdown_safe(value: object, max_len: int | None = 200) -> str:
    """plain() and then escape Markdown, for data inside a Markdown document (the briefing).

    Without it a location such as ``[notes](https://example.invalid/?q=...)`` becomes a link the
    analyst may click, ``# ...`` a heading and ``<...>`` raw HTML in a rendered export.
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", plain(value, max_len))


def csv_cell(value: object) -> object:
    """A value for a CSV cell a spreadsheet will open: text starting with = + - @ (or a tab or
    carriage return) gets a leading apostrophe so it is shown, never run, as a formula. Plain
    numbers such as ``-2.2`` are left as they are. Non-text values are returned unchanged."""
    from geodata.atomic import formula_safe_text

    return formula_safe_text(value)


def csv_frame(df):
    """A Polars frame with every text cell and column name made safe by `csv_cell`."""
    from geodata.atomic import formula_safe

    return formula_safe(df)


def inert_frame(df):
    """A copy of a Polars frame whose text (and list-of-text) columns went through plain().

    For exports: a file a colleague later `cat`s, opens in a GIS or pastes into a report must
    not carry escape sequences or bidi overrides from the data. Values are not truncated. Only
    distinct values are cleaned (one Python call per distinct string, not per row).
    """
    import polars as pl

    def mapping(values: pl.Series) -> dict:
        out = {}
        for v in values.drop_nulls().unique().to_list():
            clean = plain(v, None)
            if clean != v:
                out[v] = clean
        return out

    exprs = []
    for c, t in df.schema.items():
        if t == pl.Utf8:
            m = mapping(df[c])
            if m:
                exprs.append(pl.col(c).replace(m))
        elif isinstance(t, pl.List) and t.inner == pl.Utf8:
            m = mapping(df[c].explode())
            if m:
                exprs.append(pl.col(c).list.eval(pl.element().replace(m)))
    return df.with_columns(exprs) if exprs else df

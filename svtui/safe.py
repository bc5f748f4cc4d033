"""Make data inert before it reaches a terminal.

A location string or a file name is data: it must never act as Rich markup, an ANSI/OSC escape
sequence (OSC 52 could write the analyst's clipboard) or a control character.
"""
from __future__ import annotations

import re

# CSI, OSC (terminated by BEL or ST), other ESC sequences, and C0/C1 controls except none.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI ... final byte
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL or ST (or unterminated)
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS/SOS/PM/APC strings
    r"|\x1b."  # any other two-byte escape
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
    r"|\x9d[^\x07\x9c]*(?:\x07|\x9c)?"  # 8-bit OSC
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(text: object, max_len: int | None = 200) -> str:
    """Strip escape sequences and control characters; fold newlines/tabs to spaces; truncate."""
    s = "" if text is None else str(text)
    s = _ESCAPES.sub("", s)
    s = s.replace("\r\n", " ").replace("\n", " ").replace("\t", " ")
    s = _CONTROLS.sub("", s)
    if max_len is not None and len(s) > max_len:
        s = s[: max(1, max_len - 1)] + "…"
    return s


def markup_safe(text: object, max_len: int | None = 200) -> str:
    """plain() and then escape Rich markup, for use inside a markup string."""
    from rich.markup import escape

    return escape(plain(text, max_len))


def text(value: object, max_len: int | None = 200, style: str = ""):
    """A rich Text holding `value` as literal characters (DataTable treats str cells as markup)."""
    from rich.text import Text

    return Text(plain(value, max_len), style=style)

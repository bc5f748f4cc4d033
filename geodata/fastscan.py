"""Fast path for well-formed police.uk CSVs: Polars' native CSV reader instead of Python's csv.

`geodata.policeuk` splits records with the standard library's csv module because real files are
sometimes damaged (truncated last lines, stray delimiters, quotes that never close, Excel
re-saves) and every damaged row must be quarantined, never silently repaired. That costs
seconds per 100k rows, which is fine for one partnership and too slow for the whole of England
and Wales (~6M rows a year).

`fast_table(data, name)` returns the same `policeuk._Table` the exact reader would build, but
only for files it can prove are plain: it returns None (use the exact reader) unless

* the header is the first line (a UTF-8 byte-order mark is allowed), comma-separated, and every
  header field is a known police.uk column, each once;
* the bytes are ASCII, or valid UTF-8, with no NUL byte;
* there is no double quote anywhere (so no field can hold a comma or a line break);
* every carriage return is part of a CRLF line end (Python's csv would split on a lone CR);
* line ends are all LF or all CRLF, no line is blank, the file holds exactly
  (ncol - 1) x lines commas, and Polars (which refuses a line with too many fields) reads
  lines - 1 rows: so every line has exactly ncol fields (a truncated last line, a stray
  trailing delimiter or a blank line all fail);
* there is at least one data row.

The checks are a few byte-level NumPy passes, about a millisecond per megabyte. Under these
conditions the csv module and Polars split the file identically, so the table (strings as
written, empty fields as "", 1-based `source_row`) is the same; rows whose every field is
blank are dropped with the exact reader's note. The equivalence is tested in
tests/test_cache.py against `policeuk._parse_csv` on good and damaged files.
"""
from __future__ import annotations

import numpy as np
import polars as pl

from geodata import policeuk

_NL, _CR, _COMMA, _QUOTE = 10, 13, 44, 34


def _header(data: bytes) -> tuple[list[str], int] | None:
    """Header fields and the offset where data rows start, or None when not plain."""
    end = data.find(b"\n")
    if end < 0:
        return None
    line = data[:end]
    if line.endswith(b"\r"):
        line = line[:-1]
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(sep in text for sep in (";", "\t", "|")):
        return None
    fields = [h.replace("\ufeff", "").strip() for h in text.split(",")]
    return fields, end + 1


def internal_header(fields: list[str]) -> list[str] | None:
    """Internal column names for a header where every field is known and unique, else None."""
    out = []
    for h in fields:
        key = policeuk._HEADER.get(policeuk._norm(h))
        if key is None or key[1] in out:
            return None
        out.append(key[1])
    return out


def well_formed(data: bytes, ncol: int) -> tuple[bool, int]:
    """(plain, number of lines) for `data` without a BOM.

    Plain: no quote, no NUL, line ends all LF or all CRLF, no blank line, and exactly
    (ncol - 1) commas per line on average. Together with Polars refusing any line with more
    than ncol fields (`truncate_ragged_lines=False`), the average makes it exact: no line can
    have more commas, so none can have fewer. Every test is a C-level byte search or count.
    """
    if not data or data.find(b'"') >= 0 or data.find(b"\x00") >= 0:
        return False, 0
    n_nl = data.count(b"\n")
    n_lines = n_nl + (0 if data.endswith(b"\n") else 1)
    if n_nl == 0:
        return False, n_lines
    arr = np.frombuffer(data, dtype=np.uint8)  # (NumPy counts a byte about twice as fast)
    crlf = data.find(b"\r") >= 0  # (a byte search; a count only when there is a CR at all)
    if crlf:
        # Every line end CRLF and no other CR: as many CRs as LFs, and each LF after a CR.
        if int(np.count_nonzero(arr == _CR)) != n_nl:
            return False, n_lines  # mixed line ends or lone CRs: csv splits on CR
        nl = np.flatnonzero(arr == _NL)
        if nl[0] == 0 or not bool((arr[nl - 1] == _CR).all()):
            return False, n_lines
    eol = b"\r\n" if crlf else b"\n"
    if data.startswith(eol):
        return False, n_lines  # a blank line
    if int(np.count_nonzero(arr == _COMMA)) != (ncol - 1) * n_lines:
        return False, n_lines
    # A blank line has no comma, so with two columns or more the count above already refuses
    # it (no line can make up for it: Polars refuses a line with too many fields).
    if ncol < 2 and data.find(eol + eol) >= 0:
        return False, n_lines
    return True, n_lines


def line_starts(data: bytes) -> np.ndarray:
    """Byte offset where each line after the first starts (row r of a plain file: [r - 1])."""
    return np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == _NL) + 1


def fast_table(data: bytes, name: str, defer_empty: bool = False, offsets: bool = False
               ) -> "policeuk._Table | None":
    """The exact reader's table for a plain file, read by Polars; None when not provably plain.

    With `defer_empty` the rows whose every field is blank are left in for the caller to drop
    (`drop_blank_rows`, or cheaper: blank rows have no coordinates, so only the few rows
    quarantined for that need looking at; `geodata.cache` does so).
    With `offsets` the frame gets an `_offset` column (after `source_row`): the byte offset in
    `data` where each row's line starts, so a row's text can be read again without parsing.
    """
    skip = 0
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
        skip = 3
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return None
    head = _header(data)
    if head is None:
        return None
    fields, _ = head
    internal = internal_header(fields)
    if internal is None:
        return None
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
    plain, n_lines = well_formed(data, len(fields))
    if not plain:
        tbl = _ranged(data, name, fields, internal, skip)
        return tbl if tbl is None or defer_empty else drop_blank_rows(tbl)
    if n_lines < 2:  # header only: the exact reader notes it
        return None
    try:
        frame = pl.read_csv(
            data, has_header=True, new_columns=internal, infer_schema=False, quote_char=None,
            empty_string_is_null=False, raise_if_empty=True, truncate_ragged_lines=False,
        )
    except pl.exceptions.PolarsError:
        return None  # e.g. a line with too many fields
    if frame.width != len(internal) or frame.height != n_lines - 1:
        return None
    n = frame.height
    frame = frame.with_columns(
        pl.lit(name).alias("source_file"),
        pl.int_range(1, n + 1, dtype=pl.Int64).alias("source_row"),
    )
    if offsets:
        frame = frame.with_columns(pl.Series("_offset", line_starts(data)[:n] + skip,
                                             dtype=pl.Int64))
    tbl = policeuk._Table(name, internal, fields, frame, _no_malformed(), ",", [])
    if not defer_empty:
        empty = _blank_row(internal)
        n_empty = frame.select(empty.sum()).item()
        if n_empty:
            tbl.frame = frame.filter(~empty)
            tbl.notes.append(f"{n_empty} empty row(s) ignored")
    return tbl


def _ranged(data: bytes, name: str, fields: list[str], internal: list[str], skip: int
            ) -> "policeuk._Table | None":
    """A file with damaged lines but no quote character and uniform line ends: then every line
    is one record (as the csv module splits it), so the lines with the right number of fields
    are read by Polars in one piece and only the others are looked at one by one: blank lines
    (noted), and lines with too few or too many fields ("malformed row", their text kept).
    None when that cannot be proved (quotes, NUL, lone CRs, or most lines ending in an extra
    delimiter, which the exact reader treats as an unnamed column)."""
    if data.find(b'"') >= 0 or data.find(b"\x00") >= 0:
        return None
    n_nl, n_cr = data.count(b"\n"), data.count(b"\r")
    if n_cr and (n_cr != n_nl or data.count(b"\r\n") != n_nl):
        return None
    arr = np.frombuffer(data, dtype=np.uint8)
    nl = np.flatnonzero(arr == _NL)
    starts = np.concatenate([[0], nl + 1])
    ends = np.concatenate([nl, [len(data)]])
    if starts[-1] == len(data):  # the file ends with a line end: no last record
        starts, ends = starts[:-1], ends[:-1]
    if n_cr:
        ends = ends - (arr[np.maximum(ends - 1, 0)] == _CR) * (ends > starts)
    commas = np.flatnonzero(arr == _COMMA)
    count = np.searchsorted(commas, ends) - np.searchsorted(commas, starts)
    ncol = len(fields)
    count, starts, ends = count[1:], starts[1:], ends[1:]  # data lines (the header is line 0)
    n = len(count)
    if n == 0:
        return None
    blank = ends == starts
    good = ~blank & (count == ncol - 1)
    if (count == ncol).sum() > n / 2:
        return None
    # The header and the good lines, each without its line end, then one LF after each.
    ks = np.concatenate([[0], starts[good]])
    ke = np.concatenate([[int(nl[0]) - (1 if n_cr else 0)], ends[good]])
    keep = np.zeros(len(arr) + 1, dtype=np.int32)
    np.add.at(keep, ks, 1)
    np.add.at(keep, ke, -1)
    body = arr[np.cumsum(keep[:-1]) > 0]
    lens = ke - ks
    out = np.empty(len(body) + len(lens), dtype=np.uint8)
    is_nl = np.zeros(len(out), dtype=bool)
    is_nl[np.cumsum(lens + 1) - 1] = True
    out[is_nl] = _NL
    out[~is_nl] = body
    n_good = int(good.sum())
    if n_good == 0:
        return None
    try:
        frame = pl.read_csv(
            out.tobytes(), has_header=True, new_columns=internal, infer_schema=False,
            quote_char=None, empty_string_is_null=False, raise_if_empty=True,
            truncate_ragged_lines=False)
    except pl.exceptions.PolarsError:
        return None
    if frame.width != len(internal) or frame.height != n_good:
        return None
    rows = np.arange(1, n + 1, dtype=np.int64)
    frame = frame.with_columns(pl.lit(name).alias("source_file"),
                               pl.Series("source_row", rows[good], dtype=pl.Int64))
    bad = ~good & ~blank
    raw = [data[a:b].decode("utf-8") for a, b in zip(starts[bad], ends[bad])]  # damaged lines only
    malformed = pl.DataFrame({
        "source_file": pl.Series([name] * len(raw), dtype=pl.Utf8),
        "source_row": pl.Series(rows[bad], dtype=pl.Int64),
        "raw": pl.Series(raw, dtype=pl.Utf8),
    })
    notes = [f"{int(blank.sum())} blank line(s) ignored"] if blank.any() else []
    return policeuk._Table(name, internal, fields, frame, malformed, ",", notes)


def _blank_row(columns: list[str]) -> pl.Expr:
    return pl.all_horizontal([pl.col(c).str.strip_chars() == "" for c in columns])


def _no_malformed() -> pl.DataFrame:
    return pl.DataFrame({
        "source_file": pl.Series([], dtype=pl.Utf8),
        "source_row": pl.Series([], dtype=pl.Int64),
        "raw": pl.Series([], dtype=pl.Utf8),
    })


def drop_blank_rows(tbl: "policeuk._Table") -> "policeuk._Table":
    """Drop rows whose every field is blank from a `fast_table(defer_empty=True)` table, with
    the exact reader's note (for tables that are not checked, e.g. outcomes files)."""
    empty = _blank_row(tbl.header)
    n_empty = tbl.frame.select(empty.sum()).item()
    if n_empty:
        tbl.frame = tbl.frame.filter(~empty)
        tbl.notes.insert(0, f"{n_empty} empty row(s) ignored")
    return tbl


def line_fields(line: bytes) -> list[str]:
    """The fields of one line of a plain file, as `fast_table` read them."""
    if line.endswith(b"\n"):
        line = line[:-1]
    if line.endswith(b"\r"):
        line = line[:-1]
    return line.decode("utf-8").split(",")


# --------------------------------------------------------------------------------------------
# Per-value evaluation


def map_unique(df: pl.DataFrame, keys: list[str], exprs: dict[str, pl.Expr]) -> pl.DataFrame:
    """`df.with_columns(**exprs)` for expressions that depend only on `keys`, evaluated once
    per distinct key instead of once per row, then joined back (row order kept).

    police.uk columns repeat heavily (one Month per file, a few thousand Location labels per
    force), so this turns the costly parsers (seven date formats, label regexes) into a hash
    join. New columns come after the existing ones, in the order of `exprs`.
    """
    if df.height == 0:
        return df.with_columns(**exprs)
    k = df.select(keys)
    uniq = k.unique().with_columns(**exprs).select(*keys, *exprs)
    mapped = k.join(uniq, on=keys, how="left", maintain_order="left", nulls_equal=True)
    return df.hstack(mapped.drop(keys).get_columns())

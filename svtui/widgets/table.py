"""A DataTable that shows one page of a Polars frame at a time, sortable and filterable.

DataTable slows down badly past a few thousand rows (1.7 s to first paint at 10k), so this widget
never holds more than `page_size` rows: sorting and filtering happen on the frame (Polars), and
`[` / `]` move between pages.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from svtui.safe import plain
from svtui.widgets.fmt import cell


@dataclass
class Column:
    key: str  # frame column
    label: str
    fmt: Callable[[object], Text] | None = None
    width: int | None = None
    sortable: bool = True


class PagedTable(Vertical):
    """A page of rows from a frame, with a one-line pager and an optional text filter."""

    DEFAULT_CSS = """
    PagedTable { height: 1fr; }
    PagedTable > DataTable { height: 1fr; }
    PagedTable > .pager { height: 1; color: $text-muted; }
    PagedTable > Input { height: 3; display: none; }
    PagedTable > Input.-shown { display: block; }
    """

    BINDINGS = [
        Binding("right_square_bracket", "page(1)", "Next page", key_display="]", show=False, tooltip="Next page of rows"),
        Binding("left_square_bracket", "page(-1)", "Prev page", key_display="[", show=False, tooltip="Previous page of rows"),
        Binding("s", "sort_next", "Sort", show=False, tooltip="Sort by the next column (a header click also sorts)"),
        Binding("S", "sort_reverse", "Reverse sort", show=False, tooltip="Reverse the sort"),
        Binding("slash", "find", "Find", key_display="/", show=False, tooltip="Find: keep rows containing the text (esc clears)"),
    ]

    class Highlighted(Message):
        def __init__(self, table: "PagedTable", key: str | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self):
            return self.table

    class Chosen(Message):
        def __init__(self, table: "PagedTable", key: str | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self):
            return self.table

    def __init__(self, page_size: int = 200, search_columns: tuple[str, ...] = (), *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.page_size = page_size
        self.search_columns = search_columns
        self.columns: list[Column] = []
        self.key_column: str | None = None
        self.frame = None  # the full frame
        self.view = None  # after filter and sort
        self.page_no = 0
        self.sort_key: str | None = None
        self.sort_desc = True
        self.find_text = ""
        self._keys: list[str] = []

    def compose(self) -> ComposeResult:
        yield Input(placeholder="find: type to filter rows, enter to keep, escape to clear", classes="find", disabled=True)
        yield DataTable(cursor_type="row", zebra_stripes=True)
        yield Static("", classes="pager", markup=False)

    @property
    def table(self) -> DataTable:
        return self.query_one(DataTable)

    # -- data ----------------------------------------------------------------------------------
    def set_frame(self, frame, columns: list[Column], key_column: str | None = None, sort: str | None = None, descending: bool = True, keep_position: bool = False) -> None:
        self.columns = [c for c in columns if frame is None or c.key in frame.columns]
        self.key_column = key_column
        self.frame = frame
        if sort is not None and not keep_position:
            self.sort_key, self.sort_desc = sort, descending
        if not keep_position:
            self.page_no = 0
        self._apply()

    def _apply(self, keep_key: str | None = None) -> None:
        import polars as pl

        f = self.frame
        if f is None:
            self.view = None
            self._render_page()
            return
        if self.find_text and self.search_columns:
            q = self.find_text.lower()
            cols = [c for c in self.search_columns if c in f.columns]
            if cols:
                cond = None
                for c in cols:
                    e = pl.col(c).cast(pl.Utf8).str.to_lowercase().str.contains(q, literal=True).fill_null(False)
                    cond = e if cond is None else (cond | e)
                f = f.filter(cond)
        if self.sort_key and self.sort_key in f.columns:
            try:
                f = f.sort(self.sort_key, descending=self.sort_desc, nulls_last=True)
            except Exception:  # noqa: BLE001  (unsortable column types: leave the order)
                pass
        self.view = f
        pages = self.n_pages
        self.page_no = min(self.page_no, max(pages - 1, 0))
        self._render_page(keep_key)

    @property
    def n_rows(self) -> int:
        return 0 if self.view is None else self.view.height

    @property
    def n_pages(self) -> int:
        return max(1, -(-self.n_rows // self.page_size))

    def page_rows(self):
        if self.view is None:
            return None
        return self.view.slice(self.page_no * self.page_size, self.page_size)

    def _render_page(self, keep_key: str | None = None) -> None:
        t = self.table
        t.clear(columns=True)
        self._keys = []
        for c in self.columns:
            label = c.label
            if c.key == self.sort_key:
                label += " ↓" if self.sort_desc else " ↑"
            t.add_column(Text(label, style="bold"), key=c.key, width=c.width)
        page = self.page_rows()
        if page is not None and page.height:
            rows = []
            for rec in page.iter_rows(named=True):
                rows.append([(c.fmt or cell)(rec.get(c.key)) for c in self.columns])
                self._keys.append(str(rec.get(self.key_column)) if self.key_column else str(len(self._keys)))
            t.add_rows(rows)
            if keep_key is not None and keep_key in self._keys:
                t.move_cursor(row=self._keys.index(keep_key))
        self._update_pager()

    def _update_pager(self) -> None:
        n = self.n_rows
        start = self.page_no * self.page_size
        txt = Text()
        if n == 0:
            txt.append(" no rows" + (f" match '{plain(self.find_text, 40)}'" if self.find_text else ""))
        else:
            txt.append(f" rows {start + 1:,}–{min(start + self.page_size, n):,} of {n:,}")
            if self.n_pages > 1:
                txt.append(f" · page {self.page_no + 1}/{self.n_pages} ([ ])")
        if self.sort_key:
            label = next((c.label for c in self.columns if c.key == self.sort_key), self.sort_key)
            txt.append(f" · sorted by {label} {'↓' if self.sort_desc else '↑'} (s)")
        if self.find_text:
            txt.append(f" · find '{plain(self.find_text, 40)}' (/)")
        elif self.search_columns:
            txt.append(" · / find")
        self.query_one(".pager", Static).update(txt)

    # -- cursor ----------------------------------------------------------------------------------
    @property
    def current_key(self) -> str | None:
        t = self.table
        if not self._keys or t.cursor_row is None or t.cursor_row >= len(self._keys) or t.cursor_row < 0:
            return None
        return self._keys[t.cursor_row]

    def current_record(self) -> dict | None:
        page = self.page_rows()
        t = self.table
        if page is None or not page.height or t.cursor_row is None or t.cursor_row >= page.height:
            return None
        return page.row(t.cursor_row, named=True)

    def select_key(self, key: str) -> bool:
        """Move the cursor to the row with `key` (changing page and clearing the find if need be)."""
        import polars as pl

        if self.view is None or self.key_column is None:
            return False
        idx = self.view.with_row_index("__i").filter(pl.col(self.key_column).cast(pl.Utf8) == key)
        if idx.height == 0 and self.find_text:
            self.find_text = ""
            self.query_one(Input).value = ""
            self._hide_find()
            self._apply()
            idx = self.view.with_row_index("__i").filter(pl.col(self.key_column).cast(pl.Utf8) == key)
        if idx.height == 0:
            return False
        i = int(idx["__i"][0])
        page = i // self.page_size
        if page != self.page_no:
            self.page_no = page
            self._render_page()
        self.table.move_cursor(row=i - page * self.page_size)
        return True

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.post_message(self.Highlighted(self, self.current_key))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.post_message(self.Chosen(self, self.current_key))

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        key = str(event.column_key.value)
        if self.sort_key == key:
            self.sort_desc = not self.sort_desc
        else:
            self.sort_key, self.sort_desc = key, True
        self._apply(self.current_key)

    # -- actions ---------------------------------------------------------------------------------
    def action_page(self, step: int) -> None:
        new = min(max(self.page_no + step, 0), self.n_pages - 1)
        if new != self.page_no:
            self.page_no = new
            self._render_page()

    def action_sort_next(self) -> None:
        keys = [c.key for c in self.columns if c.sortable]
        if not keys:
            return
        i = keys.index(self.sort_key) + 1 if self.sort_key in keys else 0
        self.sort_key = keys[i % len(keys)]
        self.sort_desc = True
        self._apply(self.current_key)

    def action_sort_reverse(self) -> None:
        if self.sort_key:
            self.sort_desc = not self.sort_desc
            self._apply(self.current_key)

    def action_find(self) -> None:
        if not self.search_columns:
            return
        inp = self.query_one(Input)
        inp.disabled = False
        inp.add_class("-shown")
        inp.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.find_text = event.value.strip()
        self.page_no = 0
        self._apply()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value.strip():
            self._hide_find()
        self.table.focus()

    def _hide_find(self) -> None:
        inp = self.query_one(Input)
        inp.remove_class("-shown")
        inp.disabled = True

    def on_key(self, event) -> None:
        inp = self.query_one(Input)
        if event.key == "escape" and inp.has_focus:
            event.stop()
            inp.value = ""
            self.table.focus()
            self._hide_find()

    def focus(self, scroll_visible: bool = True):
        self.table.focus(scroll_visible)
        return self

    # -- copying -----------------------------------------------------------------------------------
    def as_tsv(self, all_rows: bool = True) -> str:
        """The rows (all that pass the find, or just this page) as tab-separated text."""
        f = self.view if all_rows else self.page_rows()
        lines = ["\t".join(plain(c.label, 60) for c in self.columns)]
        if f is not None:
            for rec in f.iter_rows(named=True):
                lines.append("\t".join(plain((c.fmt or cell)(rec.get(c.key)).plain, 200) for c in self.columns))
        return "\n".join(lines) + "\n"

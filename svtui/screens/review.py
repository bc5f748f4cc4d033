"""The Review screen: the monthly hotspot review meeting, keyboard only.

The places table (adopted localities and the partnership's places) with this period against
the previous period, the same period a year before and the last 3 months against the 3 before
(`*` = significant, exact test), the c-chart flag; the selected place's changes in words; and
its actions from the workspace's action log: `a` add, `e` edit, `d` mark done, `v` evaluate,
`n` step to the next place, `[`/`]` previous/next month, `Q` month/quarter. Figures come from
hotspot.review / hotspot.evaluate via svtui.cmd_review; words from svtui.review_text.
"""
from __future__ import annotations

from datetime import date

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label, Static

from svtui.safe import plain, text
from svtui.screens.base import WorkbenchScreen


class ReviewScreen(WorkbenchScreen):
    MODE = "review"
    DEFAULT_CSS = """
    ReviewScreen #rv-body { height: 1fr; }
    ReviewScreen #rv-head { height: 1; color: $text-muted; }
    ReviewScreen #rv-places { height: 1fr; min-height: 4; }
    ReviewScreen #rv-detail { height: 6; padding: 0 1; }
    ReviewScreen #rv-actions { height: 5; }
    """
    BINDINGS = [
        Binding("n", "next_place", "Next place", tooltip="Step to the next place"),
        Binding("a", "add_action", "Add", tooltip="Record an action for this place"),
        Binding("e", "edit_action", "Edit", tooltip="Edit the selected action"),
        Binding("d", "done_action", "Done", tooltip="Mark the selected action done"),
        Binding("v", "evaluate", "Evaluate", tooltip="Evaluate the selected action (WDD, WDQ)"),
        Binding("m", "minutes", "Minutes", show=False, tooltip="Write the meeting's minutes (markdown, partner disclosure) to the workspace"),
        Binding("c", "candidates", "Candidates", show=False, tooltip="New candidate places: hotspot localities not yet reviewed"),
        Binding("left_square_bracket", "shift(-1)", "Prev month", show=False, key_display="["),
        Binding("right_square_bracket", "shift(1)", "Next month", show=False, key_display="]"),
        Binding("Q", "toggle_quarter", "Month/quarter", show=False),
        Binding("tab", "switch_table", "Places/actions", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.period: date | None = None
        self.quarter = False
        self.result = None
        self.places = None
        self.error: str | None = None

    def compose_body(self) -> ComposeResult:
        with Vertical(id="rv-body"):
            yield Static("", id="rv-head", markup=False)
            yield DataTable(id="rv-places", cursor_type="row", zebra_stripes=True)
            yield Static("", id="rv-detail", markup=False)
            yield DataTable(id="rv-actions", cursor_type="row")

    # -- data ----------------------------------------------------------------------------------
    def data_changed(self) -> None:
        if not self.wb.ready or self.wb.prep is None:
            self.query_one("#rv-head", Static).update(Text("Loading the study…", style="dim"))
            return
        if self.period is None and self.wb.prep.months:
            self.period = self.wb.prep.months[-1]
        self.reload()

    def reload(self) -> None:
        self.query_one("#rv-head", Static).update(Text(f"Reviewing {self._label()}…", style="dim italic"))
        self.compute("review", self._job, self.period, self.quarter, done=self._ready, failed=self._failed)

    def _job(self, period, quarter):
        from svtui.cmd_review import _places, build_review, open_actions
        from geodata.workspace import resolve_workspace

        spec = self.wb.spec if self.wb.spec is not None else self.wb.study.spec
        ws = resolve_workspace(spec, None, create=True)
        places = _places(type("A", (), {"places": None})(), spec, ws)
        with open_actions(spec, ws, places) as log:
            r = build_review(self.wb.study, self.wb.prep, places, period, quarter, log) if len(places) else None
            acts = log.current()
        return ws, places, r, acts

    def _failed(self, message: str) -> None:
        self.error = message
        self.query_one("#rv-head", Static).update(Text(plain(message, 300), style="bold red"))

    def _label(self) -> str:
        if self.period is None:
            return ""
        from hotspot.review import period_months

        p0, p1 = period_months(self.period, self.quarter)
        return f"{p0:%b %Y}" if p0 == p1 else f"{p0:%b}–{p1:%b %Y}"

    def _ready(self, got) -> None:
        from svtui.review_text import chart_cell, change_cell

        self.ws, self.places, self.result, self.all_actions = got
        head = self.query_one("#rv-head", Static)
        table = self.query_one("#rv-places", DataTable)
        keep = table.cursor_row if table.row_count else 0
        table.clear(columns=True)
        if self.result is None:
            head.update(Text("No places to review: adopt localities (svtui localities adopt) or add "
                             "[sources] places to study.toml.", style="yellow"))
            return
        head.update(Text(f"Review {self._label()} · [ ] month · Q quarter · c candidates · m minutes", style="bold"))
        table.add_columns("place", "now", "prev", "year", "3m", "chart")
        t = self.result["table"]
        for row in t.iter_rows(named=True):
            now = "gap" if row["n_now"] is None else f"{row['n_now']:.0f}"
            table.add_row(text(row["name"], 28), now,
                          change_cell(row["n_prev_before"], row["n_prev_after"], row["p_prev"]),
                          change_cell(row["n_year_before"], row["n_year_after"], row["p_year"]),
                          change_cell(row["n_3m_before"], row["n_3m_after"], row["p_3m"]),
                          chart_cell(row["c_flag"]), key=row["place_id"])
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1))
        self._show_place()

    def _place_row(self):
        table = self.query_one("#rv-places", DataTable)
        if self.result is None or not table.row_count:
            return None
        return self.result["table"].row(table.cursor_row, named=True)

    def _show_place(self) -> None:
        import polars as pl

        from svtui.review_text import chart_words, change_words

        row = self._place_row()
        detail = self.query_one("#rv-detail", Static)
        acts_t = self.query_one("#rv-actions", DataTable)
        keep = getattr(self, "_keep_action", None)
        if keep is None and acts_t.row_count and getattr(self, "_shown_place", None) == (row or {}).get("place_id"):
            keep = acts_t.get_row_at(acts_t.cursor_row)[0]  # the same place again: stay on its action
        self._keep_action = None
        acts_t.clear(columns=True)
        acts_t.add_columns("id", "status", "start", "review", "action", "owner")
        self._shown_place = None if row is None else row["place_id"]
        if row is None:
            detail.update("")
            return
        def num(v):
            return "gap" if v is None else f"{v:,.0f}"

        others = " · ".join(f"{lab} {'not recorded' if row[f'other_{k}_now'] is None else num(row[f'other_{k}_now'])}"
                            for k, lab in (("asb", "ASB"), ("public_order", "public order"), ("drugs", "drugs")))
        lines = [plain(row["name"], 44) + f" · harm {num(row['harm_now'])} (prev {num(row['harm_prev_before'])})",
                 "prev: " + change_words(row["n_prev_before"], row["n_prev_after"], row["p_prev"], "offences"),
                 "year: " + change_words(row["n_year_before"], row["n_year_after"], row["p_year"], "offences"),
                 "3m:   " + change_words(row["n_3m_before"], row["n_3m_after"], row["p_3m"], "offences"),
                 chart_words(row["c_flag"], row["c_centre"], row["c_upper"]),
                 "other crime: " + others]
        detail.update(Text("\n".join(lines)))
        acts = self.all_actions.filter(pl.col("place_id") == row["place_id"])
        for a in acts.iter_rows(named=True):
            acts_t.add_row(str(a["action_id"]), a["status"], a["start"] or "", a["review_by"] or "",
                           text(a["what"], 40), text(a["owner"] or "", 20), key=str(a["action_id"]))
        if keep is not None and str(keep) in [str(a) for a in acts["action_id"].to_list()]:
            acts_t.move_cursor(row=[str(a) for a in acts["action_id"].to_list()].index(str(keep)))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "rv-places":
            self._show_place()

    # -- actions --------------------------------------------------------------------------------
    def action_next_place(self) -> None:
        table = self.query_one("#rv-places", DataTable)
        if table.row_count:
            table.move_cursor(row=(table.cursor_row + 1) % table.row_count)
            self.set_focus(table)  # now, not after the queued keys (focus() is deferred)
            self._show_place()

    def action_shift(self, step: int) -> None:
        from hotspot.evaluate import month_add

        if self.period is None:
            return
        months = self.wb.prep.months
        new = month_add(self.period, step * (3 if self.quarter else 1))
        if months and not (months[0] <= new <= months[-1]):
            self.notify("No data for that period.", severity="warning")
            return
        self.period = new
        self.reload()

    def action_toggle_quarter(self) -> None:
        self.quarter = not self.quarter
        self.reload()

    def action_switch_table(self) -> None:
        places = self.query_one("#rv-places", DataTable)
        self.set_focus(self.query_one("#rv-actions", DataTable) if places.has_focus else places)

    def _selected_action(self) -> int | None:
        row = self._place_row()
        if row is not None and getattr(self, "_shown_place", None) != row["place_id"]:
            self._show_place()  # the place moved and its actions are not shown yet: never act on another place's
        t = self.query_one("#rv-actions", DataTable)
        if not t.row_count:
            self.notify("No action for this place: press a to add one.", severity="warning")
            return None
        return int(t.get_row_at(t.cursor_row)[0])

    def _log(self):
        from geodata.actions import open_log
        from geodata.workspace import actions_path

        return open_log(actions_path(self.ws))

    def action_add_action(self) -> None:
        row = self._place_row()
        if row is None:
            return
        first = self.wb.prep.months[-1] if self.wb.prep and self.wb.prep.months else date.today()
        self.app.push_screen(ActionForm(f"New action · {plain(row['name'], 50)}", {"start": first.isoformat()}),
                             lambda values: self._save(values, None, row))

    def action_edit_action(self) -> None:
        aid = self._selected_action()
        if aid is None:
            return
        with self._log() as log:
            cur = log.get(aid)
        self.app.push_screen(ActionForm(f"Edit action {aid}", cur), lambda values: self._save(values, aid, None))

    def action_done_action(self) -> None:
        aid = self._selected_action()
        if aid is not None:
            self._save({"status": "done"}, aid, None)

    def _save(self, values, aid, row) -> None:
        from geodata.actions import ActionInputError
        from svtui.review_text import action_error

        if not values:
            return
        try:
            with self._log() as log:
                if aid is None:
                    what = values.pop("what", "")
                    aid = log.add(row["place_id"], what, place_name=row["name"], **values)
                else:
                    log.update(aid, **values)
        except ActionInputError as exc:
            self.notify(action_error(exc), title="Not saved", severity="error", markup=False)
            return
        self._keep_action = aid  # the saved action stays selected after the reload
        self.notify(f"Action {aid} saved (every change is kept).", markup=False)
        self.reload()

    def action_candidates(self) -> None:
        c = self.result["candidates"] if self.result else None
        if c is None or c.height == 0:
            self.notify("No new candidate places: every current hotspot locality is reviewed.", markup=False)
            return
        lines = [f"{plain(r['locality_id'], 12)} {plain(r['name'], 50)} ({r['n_incidents']})" for r in c.head(6).iter_rows(named=True)]
        self.notify("\n".join(lines), title="New candidate places (adopt with svtui localities adopt)", timeout=12, markup=False)

    def action_minutes(self) -> None:
        if not self.result:
            return
        from geodata.atomic import write_text_atomic
        from svtui.review_minutes import minutes

        p0 = self.result["period"][0]
        path = self.ws / f"minutes-{p0:%Y-%m}{'-quarter' if self.quarter else ''}.md"
        write_text_atomic(minutes(self.wb.study, self.result, "partner"), path, force=True)
        self.notify(f"Minutes written to {plain(path, None)}", title="Minutes", markup=False)

    def action_evaluate(self) -> None:
        aid = self._selected_action()
        if aid is None:
            return
        self.query_one("#rv-detail", Static).update(Text("Evaluating…", style="dim italic"))
        self.compute("evaluate", self._evaluate_job, aid, done=self._evaluated)

    def _evaluate_job(self, aid):
        from svtui.cmd_review import evaluate_action

        with self._log() as log:
            a = log.get(aid)
        return evaluate_action(self.wb.study, self.wb.prep, self.places, a)

    def _evaluated(self, ev) -> None:
        from svtui.review_text import evaluation_words

        from svtui.review_text import VERDICT

        words = (f"Verdict: {VERDICT[ev['verdict']]}. " + evaluation_words(ev).split(" Verdict:")[0]
                 if "T0" in ev else f"Not evaluated: {ev['verdict']}")
        counts = (f"place {ev['T0']}→{ev['T1']}, ring {ev['D0']}→{ev['D1']}, control {ev['Ct0']}→{ev['Ct1']}. "
                  if "T0" in ev else "")
        self.query_one("#rv-detail", Static).update(Text(plain(counts + words, 1000)))


FIELDS = (("what", "Action"), ("owner", "Owner"), ("start", "Start"), ("review_by", "Review by"),
          ("status", "Status"), ("notes", "Notes"))


class ActionForm(ModalScreen):
    """Add or edit an action: one line per field; enter moves on, ctrl+s saves, escape cancels."""

    DEFAULT_CSS = """
    ActionForm { align: center middle; }
    ActionForm > Vertical { width: 76; height: auto; max-height: 22; border: round $accent; background: $surface; padding: 0 1; }
    ActionForm Horizontal { height: 1; }
    ActionForm Label { width: 11; }
    ActionForm Input { height: 1; border: none; padding: 0; width: 1fr; }
    ActionForm Input:focus { border: none; background: $boost; }
    """
    # enter as a priority binding: focus moves while the key is handled, so keys typed (or
    # pasted) right after it land in the next field, not the one just left.
    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "save", "Save"),
                Binding("enter", "next_field", "Next field", show=False, priority=True)]

    def __init__(self, title: str, values: dict | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.values = values or {}

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.title_text, style="bold"))
            for key, label in FIELDS:
                with Horizontal():
                    yield Label(label)
                    v = self.values.get(key)
                    yield Input(value="" if v is None else str(v), id=f"f-{key}",
                                placeholder="planned/running/done/dropped" if key == "status" else
                                "YYYY-MM-DD" if key in ("start", "review_by") else "")
            yield Static(Text("enter: next field · ctrl+s: save · escape: cancel", style="dim"))

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#f-what", Input))

    def action_next_field(self) -> None:
        keys = [k for k, _ in FIELDS]
        focused = self.focused
        i = keys.index(focused.id.removeprefix("f-")) if isinstance(focused, Input) and focused.id else -1
        if i + 1 < len(keys):
            self.set_focus(self.query_one(f"#f-{keys[i + 1]}", Input))
        else:
            self.action_save()

    def action_save(self) -> None:
        out = {}
        for key, _ in FIELDS:
            v = self.query_one(f"#f-{key}", Input).value.strip()
            if v or (key in self.values and key != "what"):
                out[key] = v or None
        if not out.get("what") and not self.values:
            self.notify("Say what the action is.", severity="warning")
            return
        if out.get("status") is None:
            out.pop("status", None)
        self.dismiss(out)

    def action_cancel(self) -> None:
        self.dismiss(None)

"""What `svtui check` needs from the incidents, as counts: works on an eager frame or on the
workspace cache's LazyFrame (`load_study(..., lazy=True)`), where only the aggregated numbers
are ever in memory.

`svtui check` reports the ledger, the months per source and what the definition can see. None
of these needs the rows themselves, only how many rows share each value of a few columns, so a
cache reopen scans the Parquet file (projection and row-group pruning) and never builds the
6M-row frame. The text and JSON are the same as from the eager frame: the definition's own
function (`hotspot.definition.what_definition_sees`) is run on the distinct values of its input
columns with how many rows hold each.
"""
from __future__ import annotations

import polars as pl

from geodata.schema import MARKERS

#: The columns `what_definition_sees` reads (every other column is ignored by it).
DEFINITION_INPUTS = ("source", "offence_code", "crime_type", "offence_desc", *MARKERS)
#: The column of `definition_inputs` saying how many rows each of its rows stands for.
COUNTS = "__svtui_rows"


def definition_inputs(incidents: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """The distinct combinations of the definition's input columns over every row, with how
    many rows hold each (`COUNTS`): `what_definition_sees(d, frame, counts=COUNTS)` gives the
    sentences and counts of the rows themselves from a few dozen rows."""
    lf = incidents.lazy()
    names = lf.collect_schema().names()
    cols = [c for c in DEFINITION_INPUTS if c in names]
    if not cols:  # nothing the definition reads: it then only counts rows
        return lf.select(pl.len().alias(COUNTS)).collect()
    return (lf.group_by(cols).agg(pl.len().alias(COUNTS)).collect()
            .sort(cols, nulls_last=True))  # the same frame whatever order group_by took


def has_records(inputs: pl.DataFrame) -> bool:
    """True when any row is a police record (what `Study.has_records` asks of the frame), from
    `definition_inputs`."""
    return "source" in inputs.columns and bool((inputs["source"] == "records").any())


def rows_in_window(incidents: pl.DataFrame | pl.LazyFrame, start, end) -> int:
    """Accepted incidents with `start` <= month <= `end` (either may be None)."""
    lf = incidents.lazy()
    if "month" not in lf.collect_schema().names():
        return 0
    keep = pl.lit(True)
    if start is not None:
        keep = keep & (pl.col("month") >= start)
    if end is not None:
        keep = keep & (pl.col("month") <= end)
    return int(lf.filter(keep).select(pl.len()).collect().item())

"""The row ledger: every input row is accepted or quarantined with a reason.

The invariant `read == accepted + sum(quarantined)` is checked whenever an entry is closed, so a
reader that loses rows fails loudly in tests rather than silently in a meeting.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

REASONS = (
    "no coordinates",
    "coordinates out of range",
    "outside the study area",
    "unparseable date",
    "month out of range",
    "unknown area code",
    "duplicate id",
    "duplicate row",
    "missing required value",
    "malformed row",
    "unknown offence code",
)

#: A month whose rows fall below this fraction of the source's median month is "low-volume"
#: (a partial extract): the same 10% rule as hotspot.area_profiles.COVERED_MONTH.
LOW_MONTH_SHARE = 0.10


@dataclass
class SourceLedger:
    """Accounting for one source (a file, folder or zip)."""

    kind: str
    path: str
    read: int = 0
    accepted: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    # Quarantined rows: original values as text plus `source_file`, `source_row`, `reason`.
    rows: pl.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    # Rows per month ("YYYY-MM" -> rows read, accepted or quarantined), once `record_months` ran.
    month_counts: dict[str, int] | None = None

    @property
    def months_known(self) -> bool:
        return self.month_counts is not None

    @property
    def missing_months(self) -> list[str]:
        """Months inside the source's span (first to last month with rows) with no rows at all."""
        if not self.month_counts:
            return []
        have = sorted(self.month_counts)
        span = _month_span(have[0], have[-1])
        return [m for m in span if self.month_counts.get(m, 0) == 0]

    @property
    def low_months(self) -> list[str]:
        """Months with rows, but fewer than LOW_MONTH_SHARE of the source's median month.

        The median is over every month of the span, missing months counting 0 (a source that
        is mostly gaps has no reliable median: its low months are then those under 10% of
        the median of the months it has).
        """
        if not self.month_counts:
            return []
        have = {m: n for m, n in self.month_counts.items() if n > 0}
        if not have:
            return []
        vals = sorted(have.values())
        k = len(vals)
        median = vals[k // 2] if k % 2 else (vals[k // 2 - 1] + vals[k // 2]) / 2
        return sorted(m for m, n in have.items() if n < LOW_MONTH_SHARE * median)

    @property
    def n_quarantined(self) -> int:
        return sum(self.quarantined.values())

    @property
    def balanced(self) -> bool:
        return self.read == self.accepted + self.n_quarantined

    def quarantine(self, rows: pl.DataFrame, reason: str) -> None:
        """Record rows (any columns) as quarantined for `reason`."""
        n = rows.height
        if n == 0:
            return
        self.quarantined[reason] = self.quarantined.get(reason, 0) + n
        rows = rows.with_columns(pl.lit(reason).alias("reason"))
        rows = rows.select([pl.col(c).cast(pl.Utf8) for c in rows.columns])
        self.rows = rows if self.rows is None else pl.concat([self.rows, rows], how="diagonal")

    def move_to_quarantine(self, rows: pl.DataFrame, reason: str) -> None:
        """Quarantine rows that had been counted as accepted (e.g. by a later check)."""
        self.accepted -= rows.height
        self.quarantine(rows, reason)

    def check(self) -> None:
        if not self.balanced:
            raise AssertionError(
                f"ledger for {self.path} does not balance: read {self.read} != accepted "
                f"{self.accepted} + quarantined {self.n_quarantined}"
            )

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "path": self.path,
            "read": self.read,
            "accepted": self.accepted,
            "quarantined": dict(sorted(self.quarantined.items())),
            # null when months were not counted (e.g. a lookup or boundary file)
            "months": ({"first": min(self.month_counts), "last": max(self.month_counts),
                        "with_rows": sum(1 for n in self.month_counts.values() if n > 0)}
                       if self.month_counts else None),
            "missing_months": self.missing_months if self.month_counts is not None else None,
            "low_months": self.low_months if self.month_counts is not None else None,
        }


@dataclass
class Ledger:
    sources: list[SourceLedger] = field(default_factory=list)

    def add(self, entry: SourceLedger) -> SourceLedger:
        entry.check()
        self.sources.append(entry)
        return entry

    def find(self, kind: str) -> list[SourceLedger]:
        return [s for s in self.sources if s.kind == kind]

    @property
    def balanced(self) -> bool:
        return all(s.balanced for s in self.sources)

    def to_dict(self) -> dict:
        return {"sources": [s.to_dict() for s in self.sources]}

    def record_months(self, incidents: pl.DataFrame | pl.LazyFrame | None,
                      kinds: tuple[str, ...] = ("crimes", "ae")) -> None:
        """Count each dated source's rows per month, accepted and quarantined alike.

        Accepted rows are matched to their source by `source_file` (a file, or a file inside the
        source's folder or zip); quarantined rows carry their month in `month` (or the raw
        `Month`). A month whose only rows were quarantined (say all without a location) is not
        missing: the force recorded crimes in it. Unparseable months are not counted.
        `incidents` may be a LazyFrame (a scan of the cache): only its counts per
        (`source_file`, month) are collected.
        """
        per_file = month_counts(incidents)
        for s in self.sources:
            if s.kind not in kinds:
                continue
            frames = []
            if per_file is not None and per_file.height:
                root = str(s.path)
                mine = per_file.filter(
                    (pl.col("source_file") == root) | pl.col("source_file").str.starts_with(root.rstrip("/\\") + "/")
                    | pl.col("source_file").str.starts_with(root + "!"))
                frames.append(mine.select("m", "n"))
            if s.rows is not None and s.rows.height:
                col = "month" if "month" in s.rows.columns else ("Month" if "Month" in s.rows.columns else None)
                if col is not None:
                    frames.append(s.rows.select(pl.col(col).cast(pl.Utf8).str.slice(0, 7).alias("m"),
                                                pl.lit(1, dtype=pl.UInt32).alias("n")))
            if not frames:
                s.month_counts = {}
                continue
            m = pl.concat(frames).filter(pl.col("m").str.contains(r"^\d{4}-(0[1-9]|1[0-2])$"))
            counts = m.group_by("m").agg(pl.col("n").sum())
            s.month_counts = dict(zip(counts["m"].to_list(), counts["n"].to_list()))

    def quarantine_frame(self) -> pl.DataFrame:
        frames = [
            s.rows.with_columns(pl.lit(s.kind).alias("source_kind"))
            for s in self.sources
            if s.rows is not None and s.rows.height
        ]
        if not frames:
            return pl.DataFrame(schema={"source_kind": pl.Utf8, "reason": pl.Utf8})
        return pl.concat(frames, how="diagonal")

    def write_quarantine(self, folder: str | Path, force: bool = False) -> list[Path]:
        """Write one CSV of quarantined rows per source into `folder`; return the paths.

        Each file is written atomically (a temporary file in `folder`, then a rename). Files
        already there are never replaced unless `force`: the check covers every file before
        the first is written, so a refusal leaves the folder as it was.
        """
        from geodata.atomic import WouldOverwrite, write_csv_atomic

        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            from geodata.errors import SourceError

            raise SourceError(str(folder), "is a file, not a folder",
                              "give --quarantine the name of a folder (it is created if missing)")
        plan = []
        for i, s in enumerate(self.sources):
            if s.rows is None or s.rows.height == 0:
                continue
            name = f"{i:02d}-{s.kind}-{Path(s.path).name or 'source'}.quarantine.csv"
            plan.append((s, folder / name))
        if not force:
            clash = [p for _, p in plan if p.exists()]
            if clash:
                more = f" and {len(clash) - 1} more" if len(clash) > 1 else ""
                raise WouldOverwrite(
                    f"{clash[0]}{more}: already exists (fix: choose another folder for "
                    "--quarantine, or pass --force to replace)")
        if plan:
            folder.mkdir(parents=True, exist_ok=True)
        return [write_csv_atomic(s.rows, p, force=force) for s, p in plan]


def _month_span(first: str, last: str) -> list[str]:
    """Every "YYYY-MM" from first to last inclusive."""
    y0, m0 = int(first[:4]), int(first[5:7])
    y1, m1 = int(last[:4]), int(last[5:7])
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(y0 * 12 + m0 - 1, y1 * 12 + m1)]


def month_counts(incidents: pl.DataFrame | pl.LazyFrame | None) -> pl.DataFrame | None:
    """Rows per (`source_file`, `m` = "YYYY-MM" of `month`) as `n`; None without those columns."""
    if incidents is None:
        return None
    lf = incidents.lazy()
    if not {"source_file", "month"} <= set(lf.collect_schema().names()):
        return None
    # Counted per distinct (file, month) first, so only those few values become text.
    per = lf.group_by("source_file", "month").agg(pl.len().alias("n")).collect()
    return (per.select(pl.col("source_file").cast(pl.Utf8),
                       pl.col("month").cast(pl.Utf8).str.slice(0, 7).alias("m"), "n")
            .group_by("source_file", "m").agg(pl.col("n").sum().cast(pl.UInt32)))

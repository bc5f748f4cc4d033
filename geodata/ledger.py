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

"""What each section knows about its subject: the Results it is written from (`_Source`), the subject's row, the voice for its definition."""
from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from svtui import disclosure as dc
from svtui.briefing.model import Ref
from svtui.briefing.writer import _key


class _Source:
    """The Results a briefing is written from, recording which engine table each figure's
    source name stands for (Briefing.sources). It computes and caches nothing itself."""

    def __init__(self, results) -> None:
        self.res = results
        self.sources: dict[str, str] = {}

    @property
    def prep(self):
        return self.res.prep

    @property
    def analysis(self):
        return self.res.analysis

    @property
    def study(self):
        return self.res.study

    @property
    def notes(self) -> list[str]:
        return list(dict.fromkeys(self.res.profile_notes("force")))

    def profiles(self, level: str) -> pl.DataFrame:
        self.sources[f"area_profiles:{level}"] = f"Results.profiles({level!r}) (hotspot.area_profiles.area_profiles)"
        return self.res.profiles(level)

    def monthly(self, level: str) -> pl.DataFrame:
        self.sources[f"area_monthly:{level}"] = f"Results.monthly({level!r}) (hotspot.area_profiles.area_monthly)"
        return self.res.monthly(level)

    def measures(self, level: str) -> pl.DataFrame:
        self.sources[f"duty_measures:{level}"] = f"Results.measures({level!r}) (hotspot.measures.duty_measures)"
        return self.res.measures(level)

    def risk(self, level_or_locality: str) -> pl.DataFrame:
        self.sources[f"risk_factors:{level_or_locality}"] = (f"Results.risk({level_or_locality!r}) "
                                                            "(hotspot.risk.risk_factors)")
        return self.res.risk(level_or_locality)

    def coverage(self, level: str) -> tuple[pl.DataFrame, pl.DataFrame]:
        self.sources[f"coverage.reach:{level}"] = f"Results.coverage({level!r}, all_needs=True).reach"
        self.sources[f"coverage.gaps:{level}"] = f"Results.coverage({level!r}, all_needs=True).gaps"
        cov = self.res.coverage(level, all_needs=True)
        return cov.reach, cov.gaps

    def peak(self, kind: str, code: str) -> dict:
        self.sources["peak_times"] = "Results.peak(kind, code) (hotspot.profiles.peak_times)"
        return self.res.peak(kind, code)

    def ages(self, kind: str, code: str) -> dict:
        self.sources["ages"] = "Results.ages(kind, code)"
        return self.res.ages(kind, code)

    def overlap(self, level: str, code: str) -> pl.DataFrame | None:
        """hotspot.overlap.locality_area_shares rows of one area: each locality's incidents and harm
        inside it and their share of the area's (None when the engine has no overlap rule yet, and
        the briefing then gives no share of a ward or LSOA: dividing a whole locality by one area
        gave shares above 100%)."""
        try:
            from hotspot.overlap import locality_area_shares
        except ImportError:
            return None
        self.sources[f"locality_overlap:{level}"] = f"hotspot.overlap.locality_area_shares(prep, analysis, {level!r})"
        frame = self.res.session.cached(("overlap", self.res.filters, level),
                                        lambda: locality_area_shares(self.prep, self.analysis, level))
        return frame.filter(pl.col("code") == code)

    def context(self, level: str) -> pl.DataFrame | None:
        """Anti-social behaviour, public order, drugs and criminal damage in the same place and
        window (Results.context; None when the Results has no such accessor)."""
        if not hasattr(self.res, "context"):
            return None
        self.sources[f"context:{level}"] = f"Results.context({level!r}) (hotspot.context)"
        return self.res.context(level)

    def outcomes(self, level: str) -> pl.DataFrame | None:
        if not hasattr(self.res, "outcomes"):
            return None
        self.sources[f"outcomes:{level}"] = f"Results.outcomes({level!r}) (hotspot.context outcome shares)"
        return self.res.outcomes(level)

    def repeats(self, level: str) -> pl.DataFrame | None:
        if not hasattr(self.res, "repeats"):
            return None
        self.sources[f"repeat_locations:{level}"] = f"Results.repeats({level!r}) (hotspot.repeats.repeat_locations)"
        return self.res.repeats(level)

    def locality_changes(self) -> pl.DataFrame:
        from hotspot.subjects import locality_changes

        self.sources["locality_changes"] = "hotspot.subjects.locality_changes(results)"
        return locality_changes(self.res)


def _row(frame: pl.DataFrame | None, **key) -> dict | None:
    if frame is None or frame.height == 0:
        return None
    f = frame
    for k, v in key.items():
        if k not in f.columns:
            return None
        f = f.filter(pl.col(k) == v)
    return f.row(0, named=True) if f.height else None


@dataclass(frozen=True)
class _Voice:
    subject: str  # sentence subject: "Serious violence"
    noun: str  # "offence"
    thing: str  # "serious violence" (mid-sentence)
    proxy: bool
    short: str = "serious violence"  # a short mid-sentence name


def _voice(definition) -> _Voice:
    if getattr(definition, "applies_to", "records") == "police.uk":
        return _Voice(
            "Violence, robbery and weapon possession recorded on police.uk",
            "offence",
            "violence, robbery and weapon possession (the police.uk proxy for serious violence)",
            True,
            "violence",
        )
    return _Voice("Serious violence", "offence", "serious violence", False)


def _harm_words() -> str:
    return "harm"  # defined once, in the data notes (offences weighted by the ONS Crime Severity Score)


@dataclass
class _Ctx:
    eng: _Source
    rule: dc.Rule
    voice: _Voice
    kind: str  # "area" | "locality"
    level: str  # area level, or "locality"
    code: str
    name: str
    row: dict
    force_row: dict | None
    src: str

    @property
    def key(self):
        return _key(code=self.code) if self.kind == "area" else _key(locality_id=self.code)

    def ref(self, column: str) -> Ref:
        return Ref(self.src, column, self.key)

    @property
    def n(self) -> int:
        v = self.row.get("n") if self.kind == "area" else self.row.get("n_incidents")
        return int(v or 0)

    @property
    def n_ref(self) -> Ref:
        return self.ref("n" if self.kind == "area" else "n_incidents")

    @property
    def is_force(self) -> bool:
        return self.kind == "area" and self.level == "force"

    @property
    def short(self) -> str:
        if self.kind == "locality":
            return "the locality"
        return {"csp": "the CSP", "force": "the force area", "district": "the district", "ward": "the ward",
                "lsoa": "the LSOA"}[self.level]

    def force_ref(self, column: str) -> Ref:
        return Ref("area_profiles:force", column, _key(code=self.force_row["code"])) if self.force_row else None

    # -- who
    def ages(self) -> dict:
        return self.eng.ages(self.level if self.kind == "area" else "locality", self.code)

    def age_key(self):
        return self.key

    # -- when
    def peak(self) -> dict:
        if self.kind == "area":
            return self.eng.peak(self.level, self.code)
        return {k: self.row.get(k) for k in ("timed_n", "peak_weekday", "peak_weekday_n", "peak_hour_from", "peak_hour_n")}

    def peak_ref(self, column: str) -> Ref:
        if self.kind == "area":
            return Ref("peak_times", column, self.key)
        return self.ref(column)

    def monthly(self) -> tuple[pl.DataFrame, str, tuple]:
        """(monthly frame of this subject: month, n; source name; key prefix)."""
        if self.kind == "area":
            m = self.eng.monthly(self.level)
            return m.filter(pl.col("code") == self.code), f"area_monthly:{self.level}", (("code", self.code),)
        m = self.eng.analysis.locality_monthly
        return m.filter(pl.col("locality_id") == self.code), "locality_monthly", (("locality_id", self.code),)


def _area_ctx(eng: _Source, rule, voice, level: str, code: str, name: str) -> _Ctx:
    prof = eng.profiles(level)
    row = _row(prof, code=code)
    if row is None:
        raise ValueError(f"area {code} has no profile (is it in the study's boundaries?)")
    force_prof = eng.profiles("force")
    force_row = force_prof.row(0, named=True) if force_prof.height == 1 else None
    return _Ctx(eng, rule, voice, "area", level, code, name, row, force_row, f"area_profiles:{level}")


def _area_localities(ctx: _Ctx) -> pl.DataFrame:
    loc = ctx.eng.analysis.localities
    if loc.height == 0 or ctx.level == "force":
        return loc
    col = f"{ctx.level}_code"
    if col not in loc.columns:
        return loc.head(0)
    return loc.filter(pl.col(col) == ctx.code)

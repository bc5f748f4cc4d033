"""Area indicators (deprivation, population, ...) keyed by LSOA.

`read_indicators(path, areas)` returns one row per LSOA with `lsoa_code` and every numeric column
of the file. The key column is found by its name (`lsoa21_code`, `LSOA code (2011)`, `LSOA11CD`,
...) or, failing that, as the column holding E01/W01 codes.

2011 -> 2021 conversion
-----------------------
A file keyed by 2011 LSOA codes (say a mid-2019 population file) is converted with the study's
2011 -> 2021 lookup (`Areas.lsoa11_to_21`, from the ONS lookup with change codes U/S/M/X):

* counts (population, age bands, numerators, households, ...) are **apportioned** over the 2021
  parts of a split 2011 area by the lookup's weight (equal shares, 1/n, unless the lookup gives
  weights) and **summed** where 2011 areas merge. Totals are preserved.
* rates, scores, ranks, deciles, ratios and indicators are **copied** to each part of a split and
  **averaged** (unweighted mean) where 2011 areas merge. A merged area's rank or decile is then
  approximate.

Which rule a column gets is decided by its name: rate words (`rate`, `per_1_000`, `density`,
`percent`, `ratio`, `score`, `rank`, `decile`, ...) -> average; count words (`population`,
`numerator`, `count`, `households`, `age_...`, `total`, ...) -> sum; weak rate words (`index`,
`indicator`, `share`) -> average; otherwise whole-number columns are counts and the rest are
averaged. The rule and the columns it put in each group are written to the ledger entry
(`SourceLedger(kind="indicators")`).

Rows are quarantined with "missing required value" (no code), "unknown area code" (not an LSOA
code, e.g. a "Total" row; or, when the study's areas are known, an LSOA outside them) or
"duplicate id" (the same code again; the first row is kept).
"""
from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from geodata.areas import LSOA_CODE, Areas, _norm, _parse_column, read_csv_strings
from geodata.errors import SourceError
from geodata.ledger import Ledger, SourceLedger

_RATE_STRONG = re.compile(
    r"(rate|per_?1|per_?10|per_?100|perthousand|density|percent|pct|proportion|ratio|score|rank"
    r"|decile|quintile|vigintile|mean|average|median|avg)")
_COUNT = re.compile(
    r"(numerator|denominator|population|count|number|households|persons|people|residents"
    r"|^age|^aged|^n_|total|males|females|^pop|_pop)")
_RATE_WEAK = re.compile(r"(index|indicator|share|prop|_pc$|%)")
_NULL_TOKENS = ("", "NA", "N/A", "n/a", "-", "..", ":", "x", "*", "null", "NULL", "NaN", "nan", "NAN",
                # not values: infinities, and the error values a spreadsheet saves (a rate
                # whose denominator was 0 becomes #DIV/0!)
                "inf", "-inf", "+inf", "Inf", "-Inf", "INF", "-INF", "Infinity", "-Infinity",
                "infinity", "#DIV/0!", "#N/A", "#VALUE!", "#REF!", "#NUM!", "#NAME?", "#NULL!")

RULE_NOTE = (
    "2011 -> 2021: counts apportioned over split areas by the lookup weight (equal shares unless "
    "given) and summed over merged areas; rates, scores, ranks and indicators copied to split "
    "parts and averaged (unweighted) over merged areas"
)


def column_rule(name: str, integral: bool) -> str:
    """'sum' for count-like columns, 'mean' for rates/scores (see the module docstring)."""
    n = name.lower()
    if _RATE_STRONG.search(n):
        return "mean"
    if _COUNT.search(n):
        return "sum"
    if _RATE_WEAK.search(n):
        return "mean"
    return "sum" if integral else "mean"


def _find_key(df: pl.DataFrame) -> tuple[str | None, int | None]:
    """The LSOA code column and its vintage (11, 21 or None)."""
    named = []
    for c in df.columns:
        p = _parse_column(c)
        if p and p.level == "lsoa" and p.kind == "code":
            named.append((c, p.year))
    if not named:
        # "LSOA code (2011)" style, or any column of E01/W01 codes.
        for c in df.columns:
            n = _norm(c)
            if "lsoa" in n and ("code" in n or n.endswith("cd")):
                y = re.search(r"(20)?(11|21)", n)
                named.append((c, int(y.group(2)) if y else None))
    candidates = named or [(c, None) for c in df.columns]
    best, best_share, best_year = None, 0.0, None
    for c, year in candidates:
        s = df[c].drop_nulls().str.strip_chars()
        if s.len() == 0:
            continue
        share = s.str.contains(LSOA_CODE).mean() or 0.0
        if share > best_share or (share == best_share and best_year is not None and year is not None
                                  and year > best_year):
            best, best_share, best_year = c, share, year
    if best is None or best_share < 0.5:
        return None, None
    return best, best_year


def _number(c: str) -> pl.Expr:
    """A text column as Float64: placeholders ("NA", "-", "..") null, "1,716" read as 1716."""
    t = pl.col(c).str.strip_chars()
    t = pl.when(t.is_in(list(_NULL_TOKENS))).then(None).otherwise(t)
    t = pl.when(t.str.contains(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")).then(
        t.str.replace_all(",", "", literal=True)).otherwise(t)
    x = t.cast(pl.Float64, strict=False)
    # "inf", "NaN" and overflowing numbers (1e999) are not values an indicator can take.
    return pl.when(x.is_finite()).then(x).otherwise(None).alias(c)


def _numeric_columns(df: pl.DataFrame, key: str
                     ) -> tuple[dict[str, pl.Expr], dict[str, bool], list[str]]:
    """Expressions for the numeric columns, whether each holds whole numbers, text columns."""
    exprs, integral, text = {}, {}, []
    for c in df.columns:
        if c == key:
            continue
        t = pl.col(c).str.strip_chars()
        probe = df.select(
            (t.is_not_null() & ~t.is_in(list(_NULL_TOKENS))).sum().alias("present"),
            _number(c).is_not_null().sum().alias("ok"),
            (_number(c).round(0) != _number(c)).any().alias("fraction"),
            t.str.contains(r"\.").any().alias("dot"),
        ).row(0, named=True)
        if probe["present"] and probe["ok"] >= 0.95 * probe["present"]:
            exprs[c] = _number(c)
            integral[c] = not (probe["fraction"] or probe["dot"])
        elif probe["present"]:
            text.append(c)
    return exprs, integral, text


_RUC_COLUMNS = ("ruc21_code", "ruc21cd", "ruc11_code", "ruc11cd", "ruc21", "ruc11", "ruc")


def _with_rural_share(df: pl.DataFrame, entry: SourceLedger) -> pl.DataFrame:
    """Turn an ONS Rural-Urban Classification code column into a numeric `rural_share` (1 rural).

    RUC 2021 codes starting with R (RLN1, RSF1, ...) and RUC 2011 codes D1-E2 are rural;
    UN1/UF1 and A1-C2 are urban; the short "Urban"/"Rural" labels are read too. Averaged, not
    summed, when 2011 areas are converted, so a merged LSOA gets its rural share.
    """
    col = next((c for c in df.columns if c.strip().lower() in _RUC_COLUMNS), None)
    if col is None or "rural_share" in df.columns:
        return df
    v = pl.col(col).str.strip_chars().str.to_uppercase()
    rural = (
        pl.when(v.str.contains(r"^(R[A-Z]*\d|[DE]\d|RURAL)")).then(pl.lit("1"))
        .when(v.str.contains(r"^(U[A-Z]*\d|[ABC]\d|URBAN)")).then(pl.lit("0"))
        .otherwise(pl.lit(None, dtype=pl.Utf8))
    )
    entry.notes.append(f"rural_share derived from the Rural-Urban Classification in {col} (1 = rural)")
    return df.with_columns(rural.alias("rural_share"))


def read_indicators(path, areas: Areas | None = None, ledger: Ledger | None = None) -> pl.DataFrame:
    """Read an LSOA indicator CSV into a frame keyed by `lsoa_code` (2021 codes where possible).

    Every numeric column is kept (as Float64; whole-number columns as Int64 unless converted).
    With `areas`, 2011-keyed files are converted to 2021 LSOAs (see the module docstring) and rows
    for areas outside the study are quarantined. One `SourceLedger(kind="indicators")` is added to
    `ledger` when given.
    """
    df, notes = read_csv_strings(path)
    entry = SourceLedger(kind="indicators", path=str(path), notes=list(notes))
    entry.read = df.height
    key, year = _find_key(df)
    if key is None:
        raise SourceError(str(path), "has no LSOA code column (looked for lsoa21_code, LSOA21CD, "
                          "lsoa11_code, 'LSOA code' and columns of E01/W01 codes)",
                          "add a column of LSOA codes named lsoa21_code (or lsoa11_code)")
    df = _with_rural_share(df, entry)
    exprs, integral, text = _numeric_columns(df, key)
    if text:
        entry.notes.append(f"text columns not kept: {', '.join(text)}")
    if not exprs:
        raise SourceError(str(path), "has no numeric columns beside the LSOA codes",
                          "give a CSV of LSOA codes and numbers")
    df = df.with_row_index("_row", offset=1).with_columns(
        pl.col(key).str.strip_chars().str.to_uppercase().alias("_key"))
    original = [c for c in df.columns if not c.startswith("_")]

    def quarantine(mask: pl.Expr, reason: str) -> None:
        nonlocal df
        rows = df.filter(mask)
        if rows.height:
            entry.quarantine(
                rows.select(pl.lit(str(path)).alias("source_file"),
                            pl.col("_row").alias("source_row"), *original), reason)
            df = df.filter(~mask.fill_null(False))

    quarantine(pl.col("_key").is_null() | (pl.col("_key") == ""), "missing required value")
    quarantine(~pl.col("_key").str.contains(LSOA_CODE), "unknown area code")
    quarantine(pl.int_range(pl.len()).over("_key") > 0, "duplicate id")

    # Vintage: from the column name, else from which code set the keys match better.
    codes21 = areas.codes if areas is not None else None
    l1121 = areas.lsoa11_to_21 if areas is not None else None
    if year is None and areas is not None and l1121.height:
        keys = df["_key"]
        only11 = l1121.filter(~pl.col("lsoa11_code").is_in(codes21.implode()))["lsoa11_code"]
        only21 = codes21.filter(~codes21.is_in(l1121["lsoa11_code"].implode()))
        n11 = keys.is_in(only11.implode()).sum()
        n21 = keys.is_in(only21.implode()).sum()
        year = 11 if n11 > n21 else 21
        entry.notes.append(f"LSOA vintage taken as 20{year} from the codes")
    rules = {c: column_rule(c, integral[c]) for c in exprs}
    values = df.select("_key", *exprs.values())
    if year == 11 and areas is not None and l1121.height:
        m = l1121.filter(pl.col("lsoa21_code").is_in(codes21.implode()))
        known = pl.col("_key").is_in(m["lsoa11_code"].implode())
        quarantine(~known, "unknown area code")
        values = df.select("_key", *exprs.values())
        j = values.join(m.select("lsoa11_code", "lsoa21_code", "weight"),
                        left_on="_key", right_on="lsoa11_code", how="inner")
        sums = [c for c, r in rules.items() if r == "sum"]
        means = [c for c, r in rules.items() if r == "mean"]
        out = (
            j.with_columns([(pl.col(c) * pl.col("weight")).alias(c) for c in sums])
            .group_by("lsoa21_code", maintain_order=True)
            .agg([pl.col(c).sum() if c in sums else pl.col(c).mean() for c in exprs])
            .rename({"lsoa21_code": "lsoa_code"})
        )
        # A sum over nothing but nulls stays null, not 0.
        nn = j.group_by("lsoa21_code", maintain_order=True).agg(
            [pl.col(c).is_not_null().any().alias(c) for c in sums])
        if sums:
            out = out.join(nn.rename({"lsoa21_code": "lsoa_code"}), on="lsoa_code",
                           suffix="__any", maintain_order="left")
            out = out.with_columns(
                [pl.when(pl.col(f"{c}__any")).then(pl.col(c)).alias(c) for c in sums]
            ).drop([f"{c}__any" for c in sums])
        n_split = m.filter(pl.col("weight") < 1)["lsoa11_code"].n_unique()
        entry.notes.append(RULE_NOTE)
        entry.notes.append(
            f"keyed by 2011 LSOAs: {values.height} rows became {out.height} 2021 LSOAs "
            f"(split 2011 areas in the study: {n_split})")
        if sums:
            entry.notes.append(f"apportioned/summed: {', '.join(sums)}")
        if means:
            entry.notes.append(f"copied/averaged: {', '.join(means)}")
    else:
        if areas is not None:
            if year == 11:
                entry.notes.append("keyed by 2011 LSOAs but no 2011 -> 2021 lookup was given; "
                                   "only unchanged codes match the study's LSOAs")
            quarantine(~pl.col("_key").is_in(codes21.implode()), "unknown area code")
        elif year == 11:
            entry.notes.append("keyed by 2011 LSOAs; not converted (no areas given)")
        out = df.select(pl.col("_key").alias("lsoa_code"), *exprs.values())
        whole = [c for c in exprs if integral[c]]
        out = out.with_columns([pl.col(c).cast(pl.Int64) for c in whole])
    entry.accepted = entry.read - entry.n_quarantined
    if ledger is not None:
        ledger.add(entry)
    else:
        entry.check()
    return out


def indicator_rules(path) -> dict[str, str]:
    """The sum/mean rule each numeric column of an indicator file would get (for display)."""
    df, _ = read_csv_strings(Path(path))
    key, _ = _find_key(df)
    if key is None:
        return {}
    exprs, integral, _ = _numeric_columns(df, key)
    return {c: column_rule(c, integral[c]) for c in exprs}

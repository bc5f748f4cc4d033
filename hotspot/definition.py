"""The serious-violence definition as data, and a vectorised classifier.

A :class:`Definition` is read from TOML (``hotspot/definitions/*.toml`` ship with svtui; any
other file may be given by path). It is a list of *categories* (homicide, robbery, ...); each
category holds one or more *rules* and applies when any of its rules applies. A rule is a
conjunction of conditions on one incident:

``offence_codes`` / ``offence_prefixes`` / ``crime_types``
    the offence: its Home Office Counting Rules code is listed or starts with a listed prefix,
    or its police.uk crime type is listed (any one of these). With no offence condition the rule
    applies to any offence.
``desc_matches`` / ``desc_excludes``
    regular expressions on the offence description: a match means yes, an exclude means no, and
    anything else (including no description) means *not known*.
``markers_all`` / ``markers_any``
    every listed marker true / at least one listed marker true.

Markers are nullable Booleans where null means *not known*, never false (see
``geodata.schema``). The classifier therefore works in three-valued (Kleene) logic: each
category is *yes*, *no* or *not known* for each incident. "Not known" arises from a null
marker, a missing offence description where the rule needs one, or a missing or unrecognised
offence code when the incident's police.uk crime type could hold one of the rule's codes (so a
police.uk "Violence and sexual offences" row is *not known* for homicide, but *no* for robbery).

:func:`classify` adds, without a Python loop over rows:

``offence_known``       the offence code is in ``hotspot/data/offences.csv`` (null: no code)
``categories``          List[Utf8]: the categories that certainly apply
``categories_unknown``  List[Utf8]: categories that would apply if the missing facts were
                        favourable (a null marker true, a GBH threshold met, ...)
``serious``             at least one category certainly applies
``serious_known``       whether ``serious`` is settled: true when serious, or when no category
                        is "not known"; false means "not known" (not serious on what the data
                        shows, but it could be)

The engine reads no files of the user's: the offence table and shipped definitions are package
data read with :mod:`importlib.resources`.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Iterable, Mapping

import polars as pl

from geodata.schema import MARKERS

__all__ = [
    "APPLIES_TO",
    "POLICE_UK_CRIME_TYPES",
    "THEME_ALIASES",
    "MARKER_LABELS",
    "DefinitionError",
    "Rule",
    "Category",
    "Definition",
    "available_definitions",
    "load_definition",
    "parse_definition",
    "offence_table",
    "normalise_code",
    "normalise_code_expr",
    "fill_crime_type",
    "classify",
    "what_definition_sees",
]

#: What a definition is written for: record-level extracts or public police.uk street data.
APPLIES_TO = ("records", "police.uk")

#: The crime types used in police.uk street CSVs.
POLICE_UK_CRIME_TYPES = (
    "Anti-social behaviour", "Bicycle theft", "Burglary", "Criminal damage and arson", "Drugs",
    "Other crime", "Other theft", "Possession of weapons", "Public order", "Robbery",
    "Shoplifting", "Theft from the person", "Vehicle crime", "Violence and sexual offences",
)

#: How markers are named in sentences.
MARKER_LABELS = {
    "domestic_abuse": "domestic abuse",
    "hate_crime": "hate crime",
    "knife": "knife",
    "firearm": "firearm",
    "corrosive": "corrosive",
    "county_lines": "county lines",
    "alcohol": "alcohol",
}

_DEFINITIONS_DIR = "definitions"
_DATA_DIR = "data"
_OFFENCES_CSV = "offences.csv"
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_TOP_KEYS = {"name", "title", "description", "version", "applies_to", "source", "notes",
             "cannot_see", "category"}
_REQUIRED_TOP = ("name", "title", "description", "version", "applies_to", "category")
_CATEGORY_KEYS = {"id", "label", "description", "themes", "rule"}
#: Other spellings accepted by :meth:`Definition.themed`.
THEME_ALIASES = {"sexual": "sexual_violence", "knife_crime": "knife", "da": "domestic_abuse"}
_RULE_KEYS = {"offence_codes", "offence_prefixes", "crime_types", "desc_matches",
              "desc_excludes", "markers_all", "markers_any"}


class DefinitionError(ValueError):
    """A definition could not be found, read or validated. The message says what and where."""


# --------------------------------------------------------------------------------------------
# Offence codes
# --------------------------------------------------------------------------------------------

def normalise_code(code: str | None) -> str | None:
    """Canonical form of a Home Office Counting Rules code: trimmed, upper case, no inner
    spaces, ``.`` written as ``/`` (ONS writes ``4.1`` for ``4/1``), leading zeros dropped
    (``008N`` -> ``8N``). Empty -> None. Mirrors :func:`normalise_code_expr`."""
    if code is None:
        return None
    c = re.sub(r"\s+", "", str(code).strip().upper()).replace(".", "/")
    c = re.sub(r"^0+(\d)", r"\1", c)
    return c or None


def normalise_code_expr(expr: pl.Expr) -> pl.Expr:
    """Polars version of :func:`normalise_code` (null and empty strings become null)."""
    c = (
        expr.cast(pl.Utf8)
        .str.strip_chars()
        .str.to_uppercase()
        .str.replace_all(r"\s+", "")
        .str.replace_all(r"\.", "/")
        .str.replace(r"^0+(\d)", "${1}")
    )
    return pl.when(c != "").then(c)  # keeps the input's name; "" and null -> null


@functools.lru_cache(maxsize=1)
def _offence_table_cached() -> pl.DataFrame:
    res = resources.files("hotspot").joinpath(_DATA_DIR, _OFFENCES_CSV)
    with res.open("rb") as fh:
        df = pl.read_csv(
            fh,
            schema_overrides={
                "offence_code": pl.Utf8,
                "description": pl.Utf8,
                "police_uk_type": pl.Utf8,
                "harm_weight": pl.Float64,
                "weight_basis": pl.Utf8,
                "weight_source": pl.Utf8,
                "weight_year": pl.Int32,
                "provisional": pl.Boolean,
            },
        )
    df = df.with_columns(normalise_code_expr(pl.col("offence_code")).alias("offence_code"))
    dup = df.filter(pl.col("offence_code").is_duplicated())["offence_code"].unique().to_list()
    if dup:
        raise DefinitionError(f"offences.csv: duplicate offence codes {sorted(dup)}")
    bad = set(df["police_uk_type"].drop_nulls().to_list()) - set(POLICE_UK_CRIME_TYPES)
    if bad:
        raise DefinitionError(f"offences.csv: unknown police.uk crime types {sorted(bad)}")
    return df


def offence_table() -> pl.DataFrame:
    """The offence table shipped in ``hotspot/data/offences.csv`` (codes normalised).

    Columns: ``offence_code, description, police_uk_type, harm_weight, weight_basis,
    weight_source, weight_year, provisional, code_status``. See docs/definition.md.
    """
    return _offence_table_cached()


def _code_to_type() -> tuple[list[str], list[str]]:
    t = offence_table().filter(pl.col("police_uk_type").is_not_null())
    return t["offence_code"].to_list(), t["police_uk_type"].to_list()


# --------------------------------------------------------------------------------------------
# The definition
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """One conjunction of conditions (see the module docstring)."""

    offence_codes: tuple[str, ...] = ()
    offence_prefixes: tuple[str, ...] = ()
    crime_types: tuple[str, ...] = ()
    desc_matches: str | None = None
    desc_excludes: str | None = None
    markers_all: tuple[str, ...] = ()
    markers_any: tuple[str, ...] = ()

    @property
    def markers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.markers_all + self.markers_any))

    @property
    def uses_codes(self) -> bool:
        return bool(self.offence_codes or self.offence_prefixes)

    @property
    def uses_desc(self) -> bool:
        return self.desc_matches is not None or self.desc_excludes is not None

    def matches_code(self, code: str) -> bool:
        """Whether a (normalised) offence code satisfies this rule's offence-code condition."""
        return code in self.offence_codes or any(code.startswith(p) for p in self.offence_prefixes)


@dataclass(frozen=True)
class Category:
    id: str
    label: str
    description: str
    rules: tuple[Rule, ...]
    #: tags linking the category to profiles and interventions (the interventions' theme
    #: words: knife, exploitation, domestic_abuse, sexual_violence, robbery, county_lines, ...)
    themes: tuple[str, ...] = ()

    @property
    def markers(self) -> tuple[str, ...]:
        out: dict[str, None] = {}
        for r in self.rules:
            out.update(dict.fromkeys(r.markers))
        return tuple(out)

    @property
    def uses_desc(self) -> bool:
        return any(r.uses_desc for r in self.rules)


@dataclass(frozen=True)
class Definition:
    name: str
    title: str
    description: str
    version: str
    applies_to: str
    categories: tuple[Category, ...]
    cannot_see: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    source: str | None = None
    origin: str | None = field(default=None, compare=False)

    @property
    def category_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.categories)

    @property
    def markers(self) -> tuple[str, ...]:
        out: dict[str, None] = {}
        for c in self.categories:
            out.update(dict.fromkeys(c.markers))
        return tuple(out)

    def themed(self, theme: str) -> set[str]:
        """Ids of the categories tagged with ``theme`` (``"sexual"`` is read as
        ``"sexual_violence"``). Empty when none is, e.g. the police.uk proxy cannot tell sexual
        offences from other violence."""
        theme = THEME_ALIASES.get(theme, theme)
        return {c.id for c in self.categories if theme in c.themes}

    def category(self, category_id: str) -> Category:
        for c in self.categories:
            if c.id == category_id:
                return c
        raise KeyError(f"definition {self.name!r} has no category {category_id!r} "
                       f"(categories: {', '.join(self.category_ids)})")


def _definitions_root():
    return resources.files("hotspot").joinpath(_DEFINITIONS_DIR)


def available_definitions() -> list[str]:
    """Names of the definitions shipped with svtui."""
    root = _definitions_root()
    return sorted(p.name[: -len(".toml")] for p in root.iterdir() if p.name.endswith(".toml"))


def load_definition(name_or_path: str | Path | Definition) -> Definition:
    """Load a shipped definition by name (``"west-mercia"``) or any definition file by path.

    A ``Path``, or a string ending in ``.toml`` or containing a path separator, is read as a
    file; anything else is looked up among the shipped names. Raises :class:`DefinitionError`
    naming the available definitions when nothing matches.
    """
    if isinstance(name_or_path, Definition):
        return name_or_path
    text: str
    origin: str
    as_path = isinstance(name_or_path, Path)
    s = str(name_or_path)
    if as_path or s.endswith(".toml") or "/" in s or "\\" in s:
        p = Path(name_or_path)
        shipped = ", ".join(available_definitions())
        if not p.is_file():
            raise DefinitionError(
                f"{p}: no definition file there (fix: check the path, or give a shipped "
                f"definition: {shipped})"
            )
        try:
            raw = p.read_bytes()
            if b"\x00" in raw[:4096]:
                raise UnicodeDecodeError("utf-8", raw[:1], 0, 1, "binary")
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DefinitionError(
                f"{p}: not a definition file (not UTF-8 TOML text) (fix: give a .toml definition "
                f"file saved as UTF-8, or a shipped definition: {shipped})") from None
        except OSError as exc:
            raise DefinitionError(
                f"{p}: cannot be read ({exc.strerror or exc}) (fix: check the file's permissions)") from None
        origin = str(p)
    else:
        res = _definitions_root().joinpath(f"{s}.toml")
        if not s or not res.is_file():
            raise DefinitionError(
                f"unknown definition {s!r} (fix: give one of "
                f"{', '.join(available_definitions())}, or the path of a .toml file)"
            )
        text = res.read_text(encoding="utf-8")
        origin = f"hotspot/definitions/{s}.toml"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(f"{origin}: not valid TOML: {exc}") from None
    return parse_definition(data, origin=origin)


def _str_list(value, where: str, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DefinitionError(f"{where}: {key} must be a list of strings")
    return tuple(value)


def _check_regex(pattern, where: str, key: str) -> str:
    if not isinstance(pattern, str) or not pattern:
        raise DefinitionError(f"{where}: {key} must be a non-empty string (a regular expression)")
    try:  # Polars (Rust regex) is the engine that will run it
        pl.Series([""], dtype=pl.Utf8).str.contains(pattern)
    except Exception as exc:  # noqa: BLE001 - polars raises its own ComputeError
        raise DefinitionError(f"{where}: {key} is not a valid regular expression: {exc}") from None
    return pattern


def _parse_rule(raw, where: str) -> Rule:
    if not isinstance(raw, Mapping):
        raise DefinitionError(f"{where}: a rule must be a table")
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise DefinitionError(
            f"{where}: unknown key(s) {sorted(unknown)}; a rule may have {sorted(_RULE_KEYS)}"
        )
    if not raw:
        raise DefinitionError(f"{where}: empty rule (it would match every incident)")
    codes = tuple(normalise_code(c) for c in _str_list(raw.get("offence_codes", []), where,
                                                      "offence_codes"))
    prefixes = tuple(normalise_code(c) for c in _str_list(raw.get("offence_prefixes", []), where,
                                                         "offence_prefixes"))
    if any(c is None for c in codes + prefixes):
        raise DefinitionError(f"{where}: empty offence code or prefix")
    crime_types = _str_list(raw.get("crime_types", []), where, "crime_types")
    bad = [t for t in crime_types if t not in POLICE_UK_CRIME_TYPES]
    if bad:
        raise DefinitionError(
            f"{where}: unknown police.uk crime type(s) {bad}; known: {', '.join(POLICE_UK_CRIME_TYPES)}"
        )
    markers_all = _str_list(raw.get("markers_all", []), where, "markers_all")
    markers_any = _str_list(raw.get("markers_any", []), where, "markers_any")
    bad = [m for m in markers_all + markers_any if m not in MARKERS]
    if bad:
        raise DefinitionError(f"{where}: unknown marker(s) {bad}; markers are {', '.join(MARKERS)}")
    dm = raw.get("desc_matches")
    de = raw.get("desc_excludes")
    return Rule(
        offence_codes=codes,  # type: ignore[arg-type]
        offence_prefixes=prefixes,  # type: ignore[arg-type]
        crime_types=crime_types,
        desc_matches=None if dm is None else _check_regex(dm, where, "desc_matches"),
        desc_excludes=None if de is None else _check_regex(de, where, "desc_excludes"),
        markers_all=markers_all,
        markers_any=markers_any,
    )


def parse_definition(data: Mapping, origin: str = "<definition>") -> Definition:
    """Validate a TOML-shaped mapping and build a :class:`Definition`."""
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise DefinitionError(f"{origin}: unknown key(s) {sorted(unknown)}; allowed: {sorted(_TOP_KEYS)}")
    missing = [k for k in _REQUIRED_TOP if k not in data]
    if missing:
        raise DefinitionError(f"{origin}: missing required key(s) {missing}")
    for k in ("name", "title", "description"):
        if not isinstance(data[k], str) or not data[k].strip():
            raise DefinitionError(f"{origin}: {k} must be a non-empty string")
    version = data["version"]
    if not isinstance(version, (str, int)) or isinstance(version, bool):
        raise DefinitionError(f"{origin}: version must be a string or an integer")
    applies_to = data["applies_to"]
    if applies_to not in APPLIES_TO:
        raise DefinitionError(f"{origin}: applies_to must be one of {list(APPLIES_TO)}, not {applies_to!r}")
    raw_cats = data["category"]
    if not isinstance(raw_cats, list) or not raw_cats:
        raise DefinitionError(f"{origin}: needs at least one [[category]]")
    cats: list[Category] = []
    seen: set[str] = set()
    for i, rc in enumerate(raw_cats, start=1):
        where = f"{origin}: category {i}"
        if not isinstance(rc, Mapping):
            raise DefinitionError(f"{where}: must be a table")
        unknown = set(rc) - _CATEGORY_KEYS
        if unknown:
            raise DefinitionError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(_CATEGORY_KEYS)}")
        cid = rc.get("id")
        if not isinstance(cid, str) or not _ID_RE.match(cid):
            raise DefinitionError(f"{where}: id must be lower_snake_case text, not {cid!r}")
        where = f"{origin}: category {cid!r}"
        if cid in seen:
            raise DefinitionError(f"{where}: duplicate category id")
        seen.add(cid)
        rules_raw = rc.get("rule")
        if isinstance(rules_raw, Mapping):
            rules_raw = [rules_raw]
        if not isinstance(rules_raw, list) or not rules_raw:
            raise DefinitionError(f"{where}: needs at least one [[category.rule]]")
        rules = tuple(_parse_rule(r, f"{where} rule {j}") for j, r in enumerate(rules_raw, start=1))
        label = rc.get("label", cid)
        desc = rc.get("description", "")
        if not isinstance(label, str) or not isinstance(desc, str):
            raise DefinitionError(f"{where}: label and description must be strings")
        themes = _str_list(rc.get("themes", []), where, "themes")
        bad = [t for t in themes if not _ID_RE.match(t)]
        if bad:
            raise DefinitionError(f"{where}: themes must be lower_snake_case words, not {bad}")
        cats.append(Category(id=cid, label=label, description=desc.strip(), rules=rules,
                             themes=themes))
    if len(cats) > 63:
        raise DefinitionError(f"{origin}: at most 63 categories are supported, not {len(cats)}")
    source = data.get("source")
    if source is not None and not isinstance(source, str):
        raise DefinitionError(f"{origin}: source must be a string")
    return Definition(
        name=data["name"].strip(),
        title=data["title"].strip(),
        description=" ".join(data["description"].split()),
        version=str(version),
        applies_to=applies_to,
        categories=tuple(cats),
        cannot_see=_str_list(data.get("cannot_see", []), origin, "cannot_see"),
        notes=_str_list(data.get("notes", []), origin, "notes"),
        source=source,
        origin=origin,
    )


# --------------------------------------------------------------------------------------------
# Classification (vectorised: a Python loop over categories and rules, never over rows)
# --------------------------------------------------------------------------------------------

_NULL_BOOL = pl.lit(None, dtype=pl.Boolean)


def _col(columns: Iterable[str], name: str, dtype: pl.DataType) -> pl.Expr:
    return pl.col(name).cast(dtype) if name in columns else pl.lit(None, dtype=dtype)


@dataclass(frozen=True)
class _Inputs:
    code: pl.Expr          # normalised offence code (null when none)
    code_known: pl.Expr    # code in the offence table (False when null)
    crime_type: pl.Expr    # given crime type, else the offence table's type for the code
    desc: pl.Expr
    markers: dict[str, pl.Expr]


_TMP_CODE, _TMP_KNOWN, _TMP_TYPE = "__sv_code", "__sv_code_known", "__sv_crime_type"
_TMP_COLUMNS = (_TMP_CODE, _TMP_KNOWN, _TMP_TYPE)


def _input_exprs(columns: Iterable[str]) -> dict[str, pl.Expr]:
    """The derived inputs, to be computed once per frame (see :func:`_prepare`)."""
    columns = set(columns)
    table_codes, table_types = _code_to_type()
    code = normalise_code_expr(_col(columns, "offence_code", pl.Utf8))
    looked_up = code.replace_strict(table_codes, table_types, default=None, return_dtype=pl.Utf8)
    return {
        _TMP_CODE: code,
        _TMP_KNOWN: code.is_in(offence_table()["offence_code"].to_list()).fill_null(False),
        _TMP_TYPE: pl.coalesce(_col(columns, "crime_type", pl.Utf8), looked_up),
    }


def _prepare(df: pl.DataFrame) -> tuple[pl.DataFrame, _Inputs]:
    """Add the derived input columns to ``df`` (drop them with ``_TMP_COLUMNS`` afterwards)."""
    columns = set(df.columns)
    prepared = df.with_columns(**_input_exprs(columns))
    return prepared, _Inputs(
        code=pl.col(_TMP_CODE),
        code_known=pl.col(_TMP_KNOWN),
        crime_type=pl.col(_TMP_TYPE),
        desc=_col(columns, "offence_desc", pl.Utf8),
        markers={m: _col(columns, m, pl.Boolean) for m in MARKERS},
    )


@functools.lru_cache(maxsize=256)
def _possible_types(rule: Rule) -> tuple[str, ...]:
    """police.uk crime types that hold at least one of the rule's offence codes."""
    t = offence_table()
    types = {
        typ for code, typ in zip(t["offence_code"].to_list(), t["police_uk_type"].to_list())
        if typ is not None and rule.matches_code(code)
    }
    return tuple(sorted(types))


def _rule_expr(rule: Rule, x: _Inputs) -> pl.Expr:
    parts: list[pl.Expr] = []
    offence: list[pl.Expr] = []
    if rule.uses_codes:
        hit = x.code.is_in(list(rule.offence_codes)) if rule.offence_codes else pl.lit(False)
        for p in rule.offence_prefixes:
            hit = hit | x.code.str.starts_with(p)
        hit = hit.fill_null(False)
        # No usable code: could it be one of ours? Decide from the crime type.
        possible = list(_possible_types(rule))
        fallback = (
            pl.when(x.crime_type.is_null() | x.crime_type.is_in(possible))
            .then(_NULL_BOOL)
            .otherwise(pl.lit(False))
        )
        offence.append(
            pl.when(hit).then(pl.lit(True)).when(x.code_known).then(pl.lit(False)).otherwise(fallback)
        )
    if rule.crime_types:
        offence.append(x.crime_type.is_in(list(rule.crime_types)))
    if offence:
        parts.append(pl.any_horizontal(offence) if len(offence) > 1 else offence[0])
    if rule.uses_desc:
        d = pl.when(pl.lit(False)).then(_NULL_BOOL)
        if rule.desc_matches is not None:
            d = d.when(x.desc.str.contains(rule.desc_matches)).then(pl.lit(True))
        if rule.desc_excludes is not None:
            d = d.when(x.desc.str.contains(rule.desc_excludes)).then(pl.lit(False))
        parts.append(d.otherwise(_NULL_BOOL))
    if rule.markers_all:
        parts.append(pl.all_horizontal([x.markers[m] for m in rule.markers_all]))
    if rule.markers_any:
        parts.append(pl.any_horizontal([x.markers[m] for m in rule.markers_any]))
    if not parts:  # cannot happen for parsed rules; keep the meaning explicit
        return pl.lit(True)
    return pl.all_horizontal(parts) if len(parts) > 1 else parts[0]


def _category_exprs(definition: Definition, x: _Inputs) -> dict[str, pl.Expr]:
    """One nullable Boolean expression per category: True yes, False no, null not known."""
    out: dict[str, pl.Expr] = {}
    for cat in definition.categories:
        rules = [_rule_expr(r, x) for r in cat.rules]
        out[cat.id] = pl.any_horizontal(rules) if len(rules) > 1 else rules[0]
    return out


def fill_crime_type(incidents: pl.DataFrame) -> pl.DataFrame:
    """Fill null ``crime_type`` from ``offence_code`` via the offence table.

    Given crime types are kept; rows whose code is missing or unknown keep a null crime type.
    Adds a ``crime_type`` column if the frame has none.
    """
    return incidents.with_columns(_input_exprs(incidents.columns)[_TMP_TYPE].alias("crime_type"))


def classify(incidents: pl.DataFrame, definition: Definition | str | Path) -> pl.DataFrame:
    """Return ``incidents`` with ``offence_known``, ``categories``, ``categories_unknown``,
    ``serious`` and ``serious_known`` added (see the module docstring). Rows are never dropped
    and the input columns are not changed. Missing input columns (a marker, ``offence_desc``,
    ``offence_code``) are treated as all null, i.e. not known."""
    definition = load_definition(definition)
    added = ["offence_known", "categories", "categories_unknown", "serious", "serious_known"]
    base = incidents.drop(added, strict=False)  # classifying twice replaces, never duplicates
    prepared, x = _prepare(base)
    cats = _category_exprs(definition, x)
    ids = list(cats)
    tmp = {cid: f"__sv_cat_{i}" for i, cid in enumerate(ids)}
    prepared = prepared.with_columns(**{tmp[cid]: e for cid, e in cats.items()})
    # Each category's yes / not-known state becomes one bit of a mask; the few distinct masks
    # are turned into lists once and joined back (much faster than building lists row by row).
    zero = pl.lit(0, dtype=pl.UInt64)
    bit = {cid: pl.lit(1 << i, dtype=pl.UInt64) for i, cid in enumerate(ids)}
    m_yes, m_unk, m_key = "__sv_mask_yes", "__sv_mask_unknown", "__sv_mask"
    masked = prepared.with_columns(
        pl.when(x.code.is_null()).then(_NULL_BOOL).otherwise(x.code_known).alias("offence_known"),
        pl.sum_horizontal([pl.when(pl.col(tmp[c]).fill_null(False)).then(bit[c]).otherwise(zero)
                           for c in ids]).alias(m_yes),
        pl.sum_horizontal([pl.when(pl.col(tmp[c]).is_null()).then(bit[c]).otherwise(zero)
                           for c in ids]).alias(m_unk),
    )
    masks = pl.concat([masked[m_yes], masked[m_unk]]).unique().to_list()
    lookup = pl.DataFrame(
        {m_key: masks, "__sv_list": [[c for i, c in enumerate(ids) if (m >> i) & 1] for m in masks]},
        schema={m_key: pl.UInt64, "__sv_list": pl.List(pl.Utf8)},
    )
    out = (
        masked
        .join(lookup.rename({"__sv_list": "categories"}), left_on=m_yes, right_on=m_key,
              how="left", maintain_order="left")
        .join(lookup.rename({"__sv_list": "categories_unknown"}), left_on=m_unk, right_on=m_key,
              how="left", maintain_order="left")
        .with_columns(
            (pl.col(m_yes) > 0).alias("serious"),
            ((pl.col(m_yes) > 0) | (pl.col(m_unk) == 0)).alias("serious_known"),
        )
    )
    return out.select(*base.columns, *added)


# --------------------------------------------------------------------------------------------
# What a definition can see in the data (for `svtui check`)
# --------------------------------------------------------------------------------------------

def _rows(n: int) -> str:
    return f"{n:,} row" if n == 1 else f"{n:,} rows"


def _shipped_for(applies_to: str, exclude: str) -> list[str]:
    out = []
    for name in available_definitions():
        if name == exclude:
            continue
        try:
            if load_definition(name).applies_to == applies_to:
                out.append(name)
        except DefinitionError:  # a broken shipped file is reported elsewhere
            continue
    return out


def _pct(n: int, d: int) -> str:
    if d == 0:
        return "0%"
    p = 100.0 * n / d
    return f"{p:.0f}%" if p >= 1 or p == 0 else "<1%"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def what_definition_sees(definition: Definition | str | Path, incidents: pl.DataFrame,
                         counts: str | None = None) -> list[str]:
    """Plain sentences on what ``definition`` can evaluate in ``incidents``, per source.

    For each source (the ``source`` column: ``police.uk`` / ``records``) it says which markers
    the definition needs are present and which are entirely missing, whether offence codes and
    descriptions are there, how many codes are not in the offence table, and for each category
    whether it can be evaluated, only partly (with the count of "not known" rows), or not at all.

    counts: the name of a column saying how many rows each row of ``incidents`` stands for (a
    frame aggregated by the columns the definition reads: source, offence_code, crime_type,
    offence_desc and the markers); the sentences are those of the rows themselves.
    """
    definition = load_definition(definition)
    lines = [
        f"Definition {definition.name!r} (version {definition.version}): {definition.title}; "
        f"written for {'record-level' if definition.applies_to == 'records' else 'police.uk'} data."
    ]
    weight = pl.col(counts).cast(pl.Int64) if counts is not None else pl.lit(1, dtype=pl.Int64)
    total = incidents.height if counts is None else int(incidents[counts].sum() or 0)
    if total == 0:
        lines.append("No incidents to check.")
        return lines
    cols = set(incidents.columns)
    prepared, x = _prepare(incidents)
    cats = _category_exprs(definition, x)
    source = pl.col("source").cast(pl.Utf8).fill_null("unknown source") if "source" in cols \
        else pl.lit("incidents")
    needed_markers = list(definition.markers)
    frame = prepared.select(
        source.alias("__source"),
        weight.alias("__w"),
        x.code.alias("__code"),
        x.code_known.alias("__known"),
        x.desc.alias("__desc"),
        *[x.markers[m].alias(f"__m_{m}") for m in needed_markers],
        *[e.alias(f"__c_{cid}") for cid, e in cats.items()],
    )

    def count(part: pl.DataFrame, mask: pl.Series) -> int:  # rows where mask is True
        return int(part["__w"].filter(mask.fill_null(False)).sum())

    for (src,), part in sorted(frame.group_by("__source"), key=lambda kv: str(kv[0][0])):
        n = int(part["__w"].sum())
        lines.append(f"{src} ({_rows(n)}):")
        if src in APPLIES_TO and src != definition.applies_to:
            if src == "police.uk":
                msg = ("this definition is written for record-level data: police.uk rows have no "
                       "offence codes or markers, so most categories are 'not known' for them")
            else:
                msg = ("this definition is written for police.uk data: record-level rows are "
                       "classified by the crime type looked up from their offence code, and "
                       "their codes and markers go unused")
            better = _shipped_for(src, exclude=definition.name)
            if better:
                msg += f"; shipped definition(s) for {src} data: {', '.join(better)}"
            lines.append(f"  {msg}")
        n_code = count(part, part["__code"].is_not_null())
        if n_code == 0:
            lines.append(f"  {src} has no offence codes: code-based categories are decided from the "
                         f"crime type where possible, otherwise 'not known'")
        else:
            n_unknown = count(part, part["__code"].is_not_null() & ~part["__known"])
            if n_code < n:
                lines.append(f"  offence code missing on {_rows(n - n_code)} ({_pct(n - n_code, n)})")
            if n_unknown:
                examples = (  # the most frequent first, ties by code
                    part.filter(pl.col("__code").is_not_null() & ~pl.col("__known"))
                    .group_by("__code").agg(pl.col("__w").sum())
                    .sort(["__w", "__code"], descending=[True, False])["__code"].head(5).to_list()
                )
                lines.append(
                    f"  {_rows(n_unknown)} with offence codes not in the offence table "
                    f"(e.g. {', '.join(repr(c) for c in examples)}): kept, flagged offence_known = false"
                )
        if needed_markers:
            present = {m: count(part, part[f"__m_{m}"].is_not_null()) for m in needed_markers}
            missing = [MARKER_LABELS[m] for m in needed_markers if present[m] == 0]
            partial = [f"{MARKER_LABELS[m]} ({_pct(present[m], n)} filled)"
                       for m in needed_markers if 0 < present[m] < n]
            full = [MARKER_LABELS[m] for m in needed_markers if present[m] == n]
            if len(missing) == len(needed_markers):
                lines.append(f"  {src} has no markers: {_join(missing)} cannot be seen")
            else:
                if full:
                    lines.append(f"  markers present on every row: {_join(full)}")
                if partial:
                    lines.append(f"  markers present on some rows (blank = not known): {_join(partial)}")
                if missing:
                    lines.append(f"  markers entirely missing: {_join(missing)} cannot be seen")
        desc_cats = [c.label for c in definition.categories if c.uses_desc]
        if desc_cats and n_code > 0:
            n_desc = count(part, part["__desc"].is_not_null())
            if n_desc < n:
                what = "no offence descriptions" if n_desc == 0 else \
                    f"offence descriptions missing on {_rows(n - n_desc)} ({_pct(n - n_desc, n)})"
                lines.append(f"  {what}: where the offence code alone does not decide them, these "
                             f"categories are 'not known': {_join(desc_cats)}")
        for cat in definition.categories:
            s = part[f"__c_{cat.id}"]
            n_yes = count(part, s)
            n_unk = count(part, s.is_null())
            if n_unk == 0:
                state = "can be evaluated"
            elif n_unk == n:
                state = "cannot be seen: 'not known' for every row"
            else:
                state = f"partly: 'not known' for {_rows(n_unk)} ({_pct(n_unk, n)})"
            lines.append(f"  {cat.label}: {state}; {n_yes:,} of {n:,} meet it")
        if definition.cannot_see and src == definition.applies_to:
            lines.append(f"  by design this definition cannot see: {'; '.join(definition.cannot_see)}")
    return lines

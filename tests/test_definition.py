"""Tests for hotspot.definition: loading, validation, the vectorised classifier, and
what_definition_sees. A small row-by-row reference evaluator (written here, independently of
the Polars code) serves as the oracle for the three-valued logic."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geodata.schema import INCIDENT_SCHEMA, MARKERS, conform
from hotspot.definition import (
    APPLIES_TO,
    POLICE_UK_CRIME_TYPES,
    Definition,
    DefinitionError,
    available_definitions,
    classify,
    fill_crime_type,
    load_definition,
    normalise_code,
    normalise_code_expr,
    offence_table,
    what_definition_sees,
)

REAL = Path(__file__).resolve().parents[2] / "shared" / "real" / "police-uk" / "west-mercia"

WM = "west-mercia"
PROXY = "police-uk-proxy"
MARKERS_FALSE = {m: False for m in MARKERS}


def frame(rows: list[dict]) -> pl.DataFrame:
    """Rows in the canonical incident schema; absent columns (e.g. markers) are null."""
    if not rows:
        return pl.DataFrame(schema=INCIDENT_SCHEMA)
    return conform(pl.DataFrame(rows, infer_schema_length=None), INCIDENT_SCHEMA)


def rec(code, desc=None, **markers) -> dict:
    return {"source": "records", "offence_code": code, "offence_desc": desc, **markers}


def one(row: dict, definition=WM) -> dict:
    return classify(frame([row]), definition).row(0, named=True)


# ------------------------------------------------------------------------------------------
# Loading and validation
# ------------------------------------------------------------------------------------------

def test_shipped_definitions_load():
    names = available_definitions()
    assert WM in names and PROXY in names
    wm = load_definition(WM)
    proxy = load_definition(PROXY)
    assert isinstance(wm, Definition)
    assert wm.applies_to == "records" and proxy.applies_to == "police.uk"
    for d in (wm, proxy):
        assert d.name and d.title and d.description and d.version
        assert d.applies_to in APPLIES_TO
        assert len(set(d.category_ids)) == len(d.category_ids)
    assert set(wm.category_ids) == {
        "homicide", "violence_with_injury_gbh", "rape_serious_sexual_assault", "robbery",
        "weapon_violence", "firearm_violence", "county_lines", "domestic_abuse_violence",
        "hate_crime_violence", "modern_slavery",
    }
    assert set(wm.markers) == {"knife", "corrosive", "firearm", "county_lines",
                               "domestic_abuse", "hate_crime"}


def test_themes_link_categories_to_profiles_and_interventions():
    wm = load_definition(WM)
    assert wm.themed("sexual") == {"rape_serious_sexual_assault"} == wm.themed("sexual_violence")
    assert wm.themed("exploitation") == {"county_lines", "modern_slavery"}
    assert wm.themed("knife") == {"weapon_violence"}
    assert load_definition(PROXY).themed("sexual") == set()  # cannot tell sexual from other violence
    assert wm.themed("no_such_theme") == set()


def test_proxy_says_what_it_cannot_see_and_that_it_over_counts():
    proxy = load_definition(PROXY)
    text = " ".join(proxy.cannot_see).lower()
    for needle in ("knife", "domestic abuse", "hate crime", "county lines", "gbh", "offence codes",
                   "month", "ages"):
        assert needle in text, needle
    assert "over-count" in proxy.description.lower()
    types = {t for c in proxy.categories for r in c.rules for t in r.crime_types}
    assert types == {"Violence and sexual offences", "Robbery", "Possession of weapons"}


def test_shipped_codes_are_in_the_offence_table():
    table = set(offence_table()["offence_code"].to_list())
    for name in available_definitions():
        d = load_definition(name)
        for c in d.categories:
            for r in c.rules:
                assert set(r.offence_codes) <= table, (name, c.id, set(r.offence_codes) - table)
                for p in r.offence_prefixes:
                    assert any(code.startswith(p) for code in table), (name, c.id, p)


def test_unknown_name_lists_the_available_ones():
    with pytest.raises(DefinitionError) as err:
        load_definition("west-merica")
    msg = str(err.value)
    assert "west-merica" in msg and WM in msg and PROXY in msg


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(DefinitionError, match="no definition file"):
        load_definition(tmp_path / "nope.toml")


GOOD = """
name = "mine"
title = "My definition"
description = "Knife robberies."
version = 2
applies_to = "records"
[[category]]
id = "knife_robbery"
label = "Knife robbery"
  [[category.rule]]
  offence_codes = ["34a", " 34 b"]
  markers_all = ["knife"]
"""


def test_load_from_path_normalises_codes(tmp_path):
    p = tmp_path / "mine.toml"
    p.write_text(GOOD, encoding="utf-8")
    for arg in (p, str(p)):
        d = load_definition(arg)
        assert d.name == "mine" and d.version == "2"
        assert d.categories[0].rules[0].offence_codes == ("34A", "34B")
    out = classify(frame([rec("34B", knife=True), rec("34B", knife=None), rec("8N", knife=True)]), p)
    assert out["categories"].to_list() == [["knife_robbery"], [], []]
    assert out["categories_unknown"].to_list() == [[], ["knife_robbery"], []]


@pytest.mark.parametrize(
    "change, match",
    [
        (('markers_all = ["knife"]', 'markers_all = ["knife_or_sharp"]'), "unknown marker"),
        (('applies_to = "records"', 'applies_to = "partners"'), "applies_to"),
        (('offence_codes = ["34a", " 34 b"]', 'offence_codez = ["34A"]'), "unknown key"),
        (('id = "knife_robbery"', 'id = "Knife Robbery"'), "lower_snake_case"),
        (('offence_codes = ["34a", " 34 b"]', 'crime_types = ["Robery"]'), "crime type"),
        (('offence_codes = ["34a", " 34 b"]', "desc_matches = '(unclosed'"), "regular expression"),
        (('title = "My definition"', ''), "missing required"),
        (('version = 2', 'version = 2\ncolour = "red"'), "unknown key"),
        (('name = "mine"', 'name = "mine'), "not valid TOML"),
        (('label = "Knife robbery"', 'label = "Knife robbery"\nthemes = ["Knife Crime"]'), "themes"),
    ],
)
def test_invalid_definitions_are_rejected(tmp_path, change, match):
    p = tmp_path / "bad.toml"
    p.write_text(GOOD.replace(*change), encoding="utf-8")
    with pytest.raises(DefinitionError, match=match):
        load_definition(p)


def test_a_definition_needs_categories_and_rules(tmp_path):
    head = GOOD.split("[[category]]")[0]
    p = tmp_path / "empty.toml"
    p.write_text(head + 'category = []\n', encoding="utf-8")
    with pytest.raises(DefinitionError, match="at least one"):
        load_definition(p)
    p.write_text(head + '[[category]]\nid = "x"\n', encoding="utf-8")
    with pytest.raises(DefinitionError, match="at least one"):
        load_definition(p)
    p.write_text(head + '[[category]]\nid = "x"\n[[category.rule]]\n', encoding="utf-8")
    with pytest.raises(DefinitionError, match="empty rule"):
        load_definition(p)


# ------------------------------------------------------------------------------------------
# One hand-made record per category (West Mercia, record-level)
# ------------------------------------------------------------------------------------------

def test_s18_knife_wounding_is_gbh_and_weapon_violence():
    r = one(rec("5D", "Wounding with intent to do grievous bodily harm (s18)",
                **{**MARKERS_FALSE, "knife": True}))
    assert sorted(r["categories"]) == ["violence_with_injury_gbh", "weapon_violence"]
    assert r["categories_unknown"] == []
    assert r["serious"] is True and r["serious_known"] is True
    assert r["offence_known"] is True


def test_abh_marked_domestic_abuse():
    r = one(rec("8N", "Assault occasioning actual bodily harm",
                **{**MARKERS_FALSE, "domestic_abuse": True}))
    assert r["categories"] == ["domestic_abuse_violence"]
    assert r["serious"] is True and r["serious_known"] is True


def test_abh_with_domestic_abuse_not_known_is_not_known():
    r = one(rec("8N", "Assault occasioning actual bodily harm",
                **{**MARKERS_FALSE, "domestic_abuse": None}))
    assert r["categories"] == []
    assert r["categories_unknown"] == ["domestic_abuse_violence"]
    assert r["serious"] is False and r["serious_known"] is False


def test_gbh_threshold_inside_8n_is_read_from_the_description():
    yes = one(rec("8N", "Inflicting grievous bodily harm without intent (s20)", **MARKERS_FALSE))
    wound = one(rec("8n", "Unlawful wounding", **MARKERS_FALSE))
    no = one(rec("8N", "ABH - Sec 47", **MARKERS_FALSE))
    unknown = one(rec("8N", None, **MARKERS_FALSE))
    generic = one(rec("8N", "Assault with injury", **MARKERS_FALSE))
    assert yes["categories"] == ["violence_with_injury_gbh"] == wound["categories"]
    assert no["categories"] == [] and no["serious_known"] is True
    for r in (unknown, generic):
        assert r["categories"] == [] and r["categories_unknown"] == ["violence_with_injury_gbh"]
        assert r["serious"] is False and r["serious_known"] is False


def test_robbery_rape_modern_slavery_homicide():
    assert one(rec("34B", **MARKERS_FALSE))["categories"] == ["robbery"]
    assert one(rec("34A", **MARKERS_FALSE))["categories"] == ["robbery"]
    assert one(rec("19C", **MARKERS_FALSE))["categories"] == ["rape_serious_sexual_assault"]
    assert one(rec("20A", **MARKERS_FALSE))["categories"] == ["rape_serious_sexual_assault"]
    assert one(rec("106", **MARKERS_FALSE))["categories"] == ["modern_slavery"]
    assert one(rec("1", **MARKERS_FALSE))["categories"] == ["homicide"]
    assert one(rec("4.1", **MARKERS_FALSE))["categories"] == ["homicide"]  # ONS spelling of 4/1
    assert one(rec("2", **MARKERS_FALSE))["categories"] == ["homicide"]
    assert one(rec("4/10", **MARKERS_FALSE))["categories"] == []  # corporate manslaughter
    assert one(rec("1/2", **MARKERS_FALSE))["categories"] == ["homicide"]  # murder sub-class
    assert one(rec("5B", **MARKERS_FALSE))["categories"] == ["violence_with_injury_gbh"]  # legacy
    assert one(rec("5C", **MARKERS_FALSE))["serious"] is False


def test_threats_with_a_knife_and_threatening_with_a_blade():
    r = one(rec("3B", "Threats to kill", **{**MARKERS_FALSE, "knife": True}))
    assert r["categories"] == ["weapon_violence"]
    assert one(rec("3B", **MARKERS_FALSE))["serious"] is False
    corrosive = one(rec("105A", **{**MARKERS_FALSE, "corrosive": True}))
    assert corrosive["categories"] == ["weapon_violence"]
    threat = one(rec("10D", "Threatening a person with a blade or sharply pointed article",
                     **MARKERS_FALSE))
    assert threat["categories"] == ["weapon_violence"]
    possession = one(rec("10D", "Possession of a bladed article in a public place",
                         **{**MARKERS_FALSE, "knife": True}))
    assert possession["categories"] == [] and possession["serious_known"] is True
    assert one(rec("10D", None, **MARKERS_FALSE))["categories_unknown"] == ["weapon_violence"]


def test_firearm_county_lines_hate_crime():
    assert one(rec("10A", **MARKERS_FALSE))["categories"] == ["firearm_violence"]
    r = one(rec("34B", **{**MARKERS_FALSE, "firearm": True}))
    assert sorted(r["categories"]) == ["firearm_violence", "robbery"]
    assert one(rec("92A", **{**MARKERS_FALSE, "county_lines": True}))["categories"] == ["county_lines"]
    assert one(rec("92A", **MARKERS_FALSE))["serious"] is False
    # racially or religiously aggravated assault with injury is hate crime without the marker
    assert one(rec("8P", "Racially aggravated ABH", **MARKERS_FALSE))["categories"] == ["hate_crime_violence"]
    r = one(rec("8N", "ABH", **{**MARKERS_FALSE, "hate_crime": True}))
    assert r["categories"] == ["hate_crime_violence"]
    # hate crime marker on violence WITHOUT injury is not in the definition
    assert one(rec("105A", **{**MARKERS_FALSE, "hate_crime": True}))["serious"] is False


def test_common_assault_is_not_serious():
    r = one(rec("105A", "Common assault and battery", **MARKERS_FALSE))
    assert r["categories"] == [] and r["categories_unknown"] == []
    assert r["serious"] is False and r["serious_known"] is True
    # with markers unknown it is only "not known": it could have involved a knife
    r = one(rec("105A", "Common assault and battery"))
    assert r["serious"] is False and r["serious_known"] is False
    assert set(r["categories_unknown"]) == {"weapon_violence", "firearm_violence", "county_lines"}


def test_a_false_marker_settles_and_a_true_one_wins():
    # markers_any: knife false + corrosive null is still not known; knife true settles it
    r = one(rec("8N", "ABH", **{**MARKERS_FALSE, "corrosive": None}))
    assert r["categories_unknown"] == ["weapon_violence"]
    r = one(rec("8N", "ABH", **{**MARKERS_FALSE, "corrosive": None, "knife": True}))
    assert r["categories"] == ["weapon_violence"] and r["categories_unknown"] == []


# ------------------------------------------------------------------------------------------
# Unknown codes, police.uk rows, frame handling
# ------------------------------------------------------------------------------------------

def test_unknown_offence_codes_are_kept_and_flagged():
    df = frame([rec("ZZ9", **MARKERS_FALSE), rec("8N", "ABH", **MARKERS_FALSE),
                {"source": "police.uk", "crime_type": "Robbery"}])
    out = classify(df, WM)
    assert out.height == 3
    assert out["offence_known"].to_list() == [False, True, None]
    # an unrecognised code could be anything: not known, never silently "not serious"
    assert out["serious"][0] is False and out["serious_known"][0] is False
    assert "homicide" in out["categories_unknown"][0]
    # ... unless its given crime type rules a category out
    r = one({**rec("ZZ9", **MARKERS_FALSE), "crime_type": "Burglary"})
    assert r["categories_unknown"] == [] and r["serious_known"] is True


def test_police_uk_rows_under_the_proxy():
    types = ["Violence and sexual offences", "Robbery", "Possession of weapons", "Burglary",
             "Anti-social behaviour", "Public order"]
    df = frame([{"source": "police.uk", "crime_type": t} for t in types])
    out = classify(df, PROXY)
    assert out["categories"].to_list() == [["violence_and_sexual_offences"], ["robbery"],
                                           ["possession_of_weapons"], [], [], []]
    assert out["serious"].to_list() == [True, True, True, False, False, False]
    assert out["serious_known"].all()
    assert out["offence_known"].is_null().all()


def test_police_uk_rows_under_the_record_level_definition():
    df = frame([{"source": "police.uk", "crime_type": t}
                for t in ("Robbery", "Violence and sexual offences", "Burglary")])
    out = classify(df, WM)
    robbery, vso, burglary = out.rows(named=True)
    assert robbery["categories"] == ["robbery"] and robbery["serious"] is True
    assert vso["serious"] is False and vso["serious_known"] is False
    assert {"homicide", "rape_serious_sexual_assault", "domestic_abuse_violence"} <= set(
        vso["categories_unknown"])
    assert "robbery" not in vso["categories_unknown"]
    assert "modern_slavery" in vso["categories_unknown"]
    # a burglary cannot be homicide, but county lines needs a marker police.uk lacks
    assert burglary["categories_unknown"] == ["county_lines"]


def test_records_under_the_proxy_use_the_crime_type_from_the_code():
    out = classify(frame([rec("5D"), rec("34B"), rec("10D"), rec("58A")]), PROXY)
    assert out["categories"].to_list() == [["violence_and_sexual_offences"], ["robbery"],
                                           ["possession_of_weapons"], []]


def test_classify_keeps_rows_columns_and_is_idempotent():
    df = frame([rec("5D", knife=True), rec("ZZ"), rec(None)]).with_columns(
        pl.Series("extra", [1, 2, 3]))
    before = df.clone()
    out = classify(df, WM)
    assert df.equals(before)
    assert out.columns == df.columns + ["offence_known", "categories", "categories_unknown",
                                        "serious", "serious_known"]
    assert out.select(df.columns).equals(df)
    assert out.schema["categories"] == pl.List(pl.Utf8)
    assert out.schema["serious"] == pl.Boolean
    assert classify(out, WM).equals(out)


def test_missing_columns_are_not_known():
    out = classify(pl.DataFrame({"offence_code": ["5D", "34B"]}), WM)
    assert out["serious"].to_list() == [True, True]
    assert out["serious_known"].to_list() == [True, True]
    assert "weapon_violence" in out["categories_unknown"][0]
    empty = classify(frame([]), WM)
    assert empty.height == 0 and "categories" in empty.columns


def test_fill_crime_type():
    df = frame([rec("5D"), rec("34b"), rec("ZZ"), {"source": "police.uk", "crime_type": "Drugs"},
                {**rec("8N"), "crime_type": "Other crime"}])
    out = fill_crime_type(df)
    assert out["crime_type"].to_list() == ["Violence and sexual offences", "Robbery", None,
                                           "Drugs", "Other crime"]
    assert fill_crime_type(pl.DataFrame({"offence_code": ["10D"]}))["crime_type"].to_list() == [
        "Possession of weapons"]


def test_offence_table_integrity():
    t = offence_table()
    assert t["offence_code"].is_unique().all()
    assert set(t["police_uk_type"].to_list()) <= set(POLICE_UK_CRIME_TYPES)
    assert t["provisional"].is_not_null().all()
    for code in ("1", "2", "3B", "4/1", "5D", "5E", "8N", "8P", "8S", "105A", "105B", "19C",
                 "19H", "17A", "20B", "34A", "34B", "10A", "10C", "10D", "106", "92A", "33"):
        assert code in t["offence_code"].to_list(), code
    assert set(t["code_status"].to_list()) <= {"current", "legacy", "unconfirmed"}


@given(st.text(alphabet=" .0123456789abcdnNABC/\t", max_size=8))
def test_normalise_code_python_and_polars_agree(s):
    got = pl.DataFrame({"c": [s]}).select(normalise_code_expr(pl.col("c")))["c"][0]
    assert got == normalise_code(s)


# ------------------------------------------------------------------------------------------
# Vectorisation: 100k rows, and a row-by-row oracle
# ------------------------------------------------------------------------------------------

def _k_and(vals):
    if any(v is False for v in vals):
        return False
    return None if any(v is None for v in vals) else True


def _k_or(vals):
    if any(v is True for v in vals):
        return True
    return None if any(v is None for v in vals) else False


def _reference(definition: Definition, row: dict) -> tuple[list[str], list[str]]:
    """Row-by-row three-valued evaluation, written straight from the documented semantics."""
    t = offence_table()
    table = dict(zip(t["offence_code"].to_list(), t["police_uk_type"].to_list()))
    code = normalise_code(row.get("offence_code"))
    ctype = row.get("crime_type") or (table.get(code) if code else None)
    yes, unknown = [], []
    for cat in definition.categories:
        results = []
        for rule in cat.rules:
            conds = []
            offence = []
            if rule.uses_codes:
                if code is not None and rule.matches_code(code):
                    offence.append(True)
                elif code in table:
                    offence.append(False)
                else:
                    possible = {typ for c, typ in table.items() if rule.matches_code(c)}
                    offence.append(None if ctype is None or ctype in possible else False)
            if rule.crime_types:
                offence.append(None if ctype is None else ctype in rule.crime_types)
            if offence:
                conds.append(_k_or(offence))
            if rule.uses_desc:
                desc = row.get("offence_desc")
                if desc is not None and rule.desc_matches and re.search(rule.desc_matches, desc):
                    conds.append(True)
                elif desc is not None and rule.desc_excludes and re.search(rule.desc_excludes, desc):
                    conds.append(False)
                else:
                    conds.append(None)
            if rule.markers_all:
                conds.append(_k_and([row.get(m) for m in rule.markers_all]))
            if rule.markers_any:
                conds.append(_k_or([row.get(m) for m in rule.markers_any]))
            results.append(_k_and(conds))
        v = _k_or(results)
        if v is True:
            yes.append(cat.id)
        elif v is None:
            unknown.append(cat.id)
    return yes, unknown


CODES = offence_table()["offence_code"].to_list()
DESCS = [None, "Wounding", "Assault occasioning ABH", "grievous bodily harm", "Threatening with a blade",
         "Possession of an offensive weapon", "Assault with injury"]

row_strategy = st.fixed_dictionaries({
    "source": st.sampled_from(["records", "police.uk"]),
    "offence_code": st.one_of(st.none(), st.sampled_from(CODES), st.sampled_from(["zz", "8n ", "4.1", "999"])),
    "crime_type": st.one_of(st.none(), st.sampled_from(POLICE_UK_CRIME_TYPES)),
    "offence_desc": st.sampled_from(DESCS),
    **{m: st.sampled_from([True, False, None]) for m in MARKERS},
})


@settings(max_examples=60, deadline=None)
@given(st.lists(row_strategy, min_size=1, max_size=40), st.sampled_from([WM, PROXY]))
def test_classify_matches_the_row_by_row_reference(rows, name):
    d = load_definition(name)
    out = classify(frame(rows), d)
    for row, got in zip(rows, out.iter_rows(named=True)):
        yes, unknown = _reference(d, row)
        assert got["categories"] == yes, row
        assert got["categories_unknown"] == unknown, row
        assert got["serious"] == bool(yes)
        assert got["serious_known"] == (bool(yes) or not unknown)


def test_100k_rows_vectorised():
    rng = np.random.default_rng(7)
    n = 100_000
    codes = np.array(CODES + ["ZZ", "8n", "4.1"], dtype=object)
    tri = np.array([True, False, None], dtype=object)
    data = {
        "source": ["records"] * n,
        "offence_code": rng.choice(codes, n).tolist(),
        "offence_desc": rng.choice(np.array(DESCS, dtype=object), n).tolist(),
        **{m: rng.choice(tri, n).tolist() for m in MARKERS},
    }
    df = conform(pl.DataFrame(data, schema_overrides={m: pl.Boolean for m in MARKERS}),
                 INCIDENT_SCHEMA)
    out = classify(df, WM)
    assert out.height == n
    assert out["offence_code"].equals(df["offence_code"])  # order kept
    n_cat = out["categories"].list.len()
    n_unk = out["categories_unknown"].list.len()
    assert (out["serious"] == (n_cat > 0)).all()
    assert (out["serious_known"] == ((n_cat > 0) | (n_unk == 0))).all()
    # a row is never both yes and not known for one category
    both = out.select(pl.col("categories").list.set_intersection("categories_unknown").list.len())
    assert both.to_series().max() == 0
    # spot-check against the oracle
    d = load_definition(WM)
    for i in rng.choice(n, 300, replace=False).tolist():
        row = df.row(i, named=True)
        yes, unknown = _reference(d, row)
        assert out["categories"][i].to_list() == yes
        assert out["categories_unknown"][i].to_list() == unknown


# ------------------------------------------------------------------------------------------
# what_definition_sees
# ------------------------------------------------------------------------------------------

def test_what_the_record_definition_sees_in_police_uk_and_records():
    df = frame([
        {"source": "police.uk", "crime_type": "Violence and sexual offences"},
        {"source": "police.uk", "crime_type": "Robbery"},
        rec("8N", "ABH", domestic_abuse=True, knife=False),
        rec("5D", None, domestic_abuse=None, knife=True),
        rec("QQ1", None, domestic_abuse=False, knife=None),
    ])
    lines = what_definition_sees(WM, df)
    text = "\n".join(lines)
    police = next(l for l in lines if l.strip().startswith("police.uk has no markers"))
    for m in ("knife", "domestic abuse", "hate crime", "county lines"):
        assert m in police
    assert "cannot be seen" in police
    assert "police.uk has no offence codes" in text
    assert "police-uk-proxy" in text  # points police.uk data at the proxy
    assert "'QQ1'" in text and "offence_known = false" in text
    missing = next(l for l in lines if "markers entirely missing" in l)
    assert "county lines" in missing and "hate crime" in missing and "firearm" in missing
    partial = next(l for l in lines if "markers present on some rows" in l)
    assert "knife" in partial and "domestic abuse" in partial
    assert any(l.strip().startswith("County lines: cannot be seen") for l in lines)
    assert any("offence descriptions missing" in l for l in lines)


def test_what_the_proxy_sees():
    df = frame([{"source": "police.uk", "crime_type": "Violence and sexual offences"}])
    lines = what_definition_sees(PROXY, df)
    assert any("by design this definition cannot see" in l and "knife" in l for l in lines)
    assert any(l.strip().startswith("Robbery: can be evaluated") for l in lines)
    assert what_definition_sees(PROXY, frame([]))[-1] == "No incidents to check."


# ------------------------------------------------------------------------------------------
# Real police.uk data (skipped when ../shared/real is absent)
# ------------------------------------------------------------------------------------------

@pytest.mark.skipif(not REAL.is_dir(), reason="real police.uk data not found at ../shared/real")
def test_real_west_mercia_police_uk_under_both_definitions():
    raw = pl.concat([pl.read_csv(p, infer_schema_length=0) for p in sorted(REAL.glob("*.csv"))])
    df = conform(raw.select(pl.lit("police.uk").alias("source"),
                            pl.col("Crime type").alias("crime_type")), INCIDENT_SCHEMA)
    proxy = classify(df, PROXY)
    wanted = {"Violence and sexual offences", "Robbery", "Possession of weapons"}
    assert proxy["serious"].sum() == df["crime_type"].is_in(list(wanted)).sum()
    assert proxy["serious_known"].all()
    wm = classify(df, WM)
    assert wm["serious"].sum() == (df["crime_type"] == "Robbery").sum()
    vso = wm.filter(pl.col("crime_type") == "Violence and sexual offences")
    assert vso.height > 1000 and not vso["serious_known"].any()
    lines = what_definition_sees(WM, df)
    assert any("police.uk has no markers" in l for l in lines)

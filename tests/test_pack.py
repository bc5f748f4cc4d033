"""The meeting pack read as a reader would: open the Word file, the workbook and the HTML and
check what a partnership meeting would notice if it broke."""
from __future__ import annotations

import base64
import io
import re
from html.parser import HTMLParser

import numpy as np
import pytest

pytest.importorskip("docx")
pytest.importorskip("openpyxl")
pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def sample_pack(sample_results, tmp_path_factory):
    from svtui.pack import build_pack

    out = tmp_path_factory.mktemp("pack")
    return build_pack(sample_results, out, top=10), sample_results.analysis


def _docx_blocks(path):
    """The document body in order: ("h<level>", text) | ("p", text) | ("img", None)."""
    from docx import Document

    d = Document(str(path))
    out = []
    for p in d.paragraphs:
        style = p.style.name
        if p._p.xpath(".//pic:pic"):
            out.append(("img", None))
        if style.startswith("Heading"):
            out.append((f"h{style.split()[-1]}", p.text))
        elif style == "Title":
            out.append(("h0", p.text))
        elif p.text:
            out.append(("p", p.text))
    return d, out


def _paged_ids(loc, top):
    """The localities that should get a page: the significant or adopted ones, most harm first,
    at most `top` (the sample has thousands of budget cells, a few hundred significant)."""
    import polars as pl

    keep = loc.filter(pl.col("significant").fill_null(False) | pl.col("adopted").fill_null(False))
    return keep.sort(["harm", "locality_id"], descending=[True, False])["locality_id"].head(top).to_list()


def test_docx_has_summary_every_csp_every_locality_with_map_and_chart(sample_pack):
    res, analysis = sample_pack
    docx_path = res.paths[0]
    d, blocks = _docx_blocks(docx_path)
    heads = [t for k, t in blocks if k.startswith("h")]
    assert heads[0].startswith("Serious violence meeting pack")
    assert any(h.startswith("Summary") for h in heads)
    for csp in ("Herefordshire", "North Worcestershire", "Shropshire", "South Worcestershire", "Telford and Wrekin"):
        assert any(h.endswith(csp) and "briefing" in h for h in heads), csp
    assert heads[-1] == "Data notes"
    want = _paged_ids(analysis.localities, 10)
    assert 0 < len(want) <= 10
    # each locality's page: its heading, then a map and a chart (captions say which) before the next heading
    idx = [i for i, (k, t) in enumerate(blocks) if k == "h2"]
    assert [re.search(r"\((L-[A-Z0-9]+)\)$", blocks[i][1]).group(1) for i in idx] == want
    for j, i in enumerate(idx):
        end = idx[j + 1] if j + 1 < len(idx) else len(blocks)
        page = blocks[i:end]
        caps = [t for k, t in page if k == "p" and t.startswith(("Locality ", "Offences a month"))]
        assert sum(1 for k, _ in page if k == "img") >= 2, blocks[i][1]
        assert caps[0].startswith(f"Locality {want[j]}") and "wards" in caps[0]
        assert caps[1].startswith("Offences a month in the locality")
    # the pictures are real PNGs
    blobs = [r.target_part.blob for r in d.part.rels.values() if "image" in r.reltype]
    assert len(blobs) >= 2 * len(want) + 1
    assert all(b[:8] == b"\x89PNG\r\n\x1a\n" for b in blobs)


def test_data_notes_once_and_caveats_only_there(sample_pack):
    res, _ = sample_pack
    _, blocks = _docx_blocks(res.paths[0])
    text = [t for k, t in blocks if k == "p"]
    notes_at = next(i for i, (k, t) in enumerate(blocks) if k == "h1" and t == "Data notes")
    body = " ".join(t for k, t in blocks[:notes_at] if k == "p")
    notes = " ".join(t for k, t in blocks[notes_at:] if k == "p")
    assert sum(1 for k, t in blocks if t == "Data notes") == 1
    for caveat in ("undercount", "associations, not causes", "add up to more than 100%", "Mann-Kendall",
                   "Getis-Ord", "Deliver them through the 5Cs"):
        assert caveat not in body, caveat
    for caveat in ("undercount", "associations, not causes", "Mann-Kendall"):
        assert notes.count(caveat) == 1, caveat
    assert "Gi* z" not in " ".join(text) and not re.search(r"\bz (up to|of|=) ?-?\d", body)


def test_word_budget_and_no_paragraph_in_every_briefing(sample_pack):
    res, analysis = sample_pack
    doc = res.document
    from svtui.pack.text import CSP_WORDS, LOCALITY_WORDS

    csp = [s for s in doc.sections if s.kind == "csp"]
    loc = [s for s in doc.sections if s.kind == "locality"]
    want = _paged_ids(analysis.localities, 10)
    assert len(csp) == 5 and [s.key for s in loc] == want
    # a non-significant budget cell never gets a page of its own
    sig = dict(zip(analysis.localities["locality_id"], analysis.localities["significant"]))
    adopted = dict(zip(analysis.localities["locality_id"], analysis.localities["adopted"]))
    assert all(sig[s.key] or adopted[s.key] for s in loc)
    for s in csp:
        assert 250 < doc.word_counts[s.key] <= CSP_WORDS, (s.key, doc.word_counts[s.key])
    for s in loc:
        assert 120 < s.words() <= LOCALITY_WORDS, (s.key, s.words())
    from svtui.pack.model import Para

    for group in (csp, loc):
        sets = [{b.text for b in s.blocks if isinstance(b, Para) and b.style in ("body", "lead")} for s in group]
        assert not set.intersection(*sets), set.intersection(*sets)


def test_html_is_one_file_and_every_image_decodes(sample_pack):
    from PIL import Image

    res, analysis = sample_pack
    n_loc = len(_paged_ids(analysis.localities, 10))
    html = res.paths[1].read_text(encoding="utf-8")

    class P(HTMLParser):
        def __init__(self):
            super().__init__()
            self.imgs, self.links, self.heads, self.sections = [], [], [], 0
            self._h = None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "img":
                self.imgs.append(a)
            if tag in ("link", "script", "iframe") or (tag == "a" and a.get("href")):
                self.links.append((tag, a))
            if tag == "section" and "page" in (a.get("class") or ""):
                self.sections += 1
            if re.fullmatch(r"h[1-3]", tag):
                self._h = tag

        def handle_data(self, data):
            if self._h:
                self.heads.append((self._h, data))
                self._h = None

    p = P()
    p.feed(html)
    assert not p.links, p.links
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:|//)", html)
    assert "@page" in html and "A4" in html
    assert len(p.imgs) >= 1 + 5 * 2 + n_loc * 2
    for a in p.imgs:
        assert a["src"].startswith("data:image/png;base64,")
        im = Image.open(io.BytesIO(base64.b64decode(a["src"].split(",", 1)[1])))
        im.load()
        assert im.size[0] > 300 and im.size[1] > 80 and a.get("alt")
    assert sum(1 for h, t in p.heads if h == "h2") == n_loc
    assert p.sections >= 5 + n_loc + 1


def test_workbook_sheets_and_disclosure(sample_pack):
    from openpyxl import load_workbook

    res, analysis = sample_pack
    wb = load_workbook(res.paths[2], read_only=True)
    assert wb.sheetnames[:5] == ["areas", "localities", "measures", "risk", "gaps"]
    assert wb.sheetnames[-1] == "provenance"
    loc = list(wb["localities"].iter_rows(values_only=True))
    head = list(loc[0])
    assert "locality_id" in head and "n_incidents" in head
    ids = {r[head.index("locality_id")] for r in loc[1:]}
    assert ids == set(analysis.localities["locality_id"].to_list())
    # the pageable (significant or adopted) localities come first, by harm
    sig = [bool(r[head.index("significant")]) or bool(r[head.index("adopted")]) for r in loc[1:]]
    assert sig == sorted(sig, reverse=True) and sig[0]
    # partner disclosure: no count of 1 to 4 anywhere in a count column
    for ws in (wb["areas"], wb["localities"]):
        rows = list(ws.iter_rows(values_only=True))
        for j, c in enumerate(rows[0]):
            if c in ("n", "incidents") or str(c).endswith(("_n", "_known")):
                vals = [r[j] for r in rows[1:] if isinstance(r[j], (int, float))]
                assert not any(0 < v < 5 for v in vals), c
    prov = {r[0]: r[1] for r in wb["provenance"].iter_rows(values_only=True)}
    assert prov.get("warning", "").startswith("SYNTHETIC")
    assert prov["kind"] == "pack" and prov["inputs.combined"]


def test_drawn_counts_follow_disclosure():
    """A suppressed count is never drawn: 1..4 become gaps; public rounds to 5 (as svtui.disclosure)."""
    from svtui import disclosure as dc
    from svtui.pack.draw import shown

    counts = np.array([0, 1, 4, 5, 7, 12, 13, np.nan])
    for level in ("none", "partner", "public"):
        got = shown(counts, level)
        for c, g in zip(counts, got):
            if np.isnan(c):
                assert np.isnan(g)
                continue
            want = dc.count(int(c), level).value
            assert (np.isnan(g) and want is None) or g == want, (level, c, g, want)


def test_monthly_chart_leaves_missing_months_as_gaps():
    """A month with no data is a gap in the line, not a drop to zero."""
    from datetime import date

    import matplotlib

    matplotlib.use("Agg")
    from svtui.pack import draw

    months = draw.month_axis(date(2024, 1, 1), date(2024, 6, 1))
    series = np.array([10, 12, np.nan, np.nan, 3, 11], float)
    png, facts = draw.monthly_chart(months, series, "partner")
    assert facts == {"withheld": 1, "nodata": 2, "limits": False}
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_month_is_nan_and_empty_month_is_zero():
    from datetime import date

    import polars as pl

    from svtui.pack.assemble import _series

    months = [date(2024, m, 1) for m in (1, 2, 3)]
    f = pl.DataFrame({"month": [date(2024, 1, 1)], "n": [7]})
    s = _series(months, f, known={date(2024, 1, 1), date(2024, 2, 1)})
    assert s[0] == 7 and s[1] == 0 and np.isnan(s[2])


def test_cli_pack_refuses_to_overwrite(tmp_path, capsys):
    from svtui.cli import main

    (tmp_path / "pack.html").write_text("mine")
    rc = main(["pack", "--out", str(tmp_path), "--top", "1", "--subjects", "Herefordshire"])
    assert rc == 2
    assert (tmp_path / "pack.html").read_text() == "mine"
    assert "--force" in capsys.readouterr().err


def test_real_west_mercia_pack(west_mercia_study, west_mercia_prep, tmp_path):
    """police.uk has no times: the pack leaves the time chart out and says why in the notes."""
    from hotspot.session import Session

    from svtui.pack import build_pack

    session = Session(west_mercia_study, prep=west_mercia_prep)
    res = build_pack(session, tmp_path, top=5)
    analysis = res.document and session.results().analysis
    _, blocks = _docx_blocks(res.paths[0])
    heads = [t for k, t in blocks if k.startswith("h")]
    assert sum(1 for h in heads if "briefing" in h) == 5
    n_loc = min(5, analysis.localities.height)
    assert sum(1 for k, _ in blocks if k == "h2") == n_loc
    text = " ".join(t for k, t in blocks if k == "p")
    assert "police.uk gives the month of each offence only" in text
    assert not any(t.startswith("When offences began") for k, t in blocks if k == "p")
    assert sum(1 for k, _ in blocks if k == "img") >= 1 + 5 * 2 + 2 * n_loc


def test_workbook_tables_follow_the_disclosure_rule():
    """Counts of 1-4 blanked (lists too), public rounds to 5, a share on a small count is withheld;
    checked against svtui.disclosure.count one value at a time."""
    import polars as pl

    from svtui import disclosure as dc
    from svtui.pack.assemble import disclose_frame

    df = pl.DataFrame({"top_venue_n": [[12, 3, 0], [7]], "n": [3, 12], "knife_n": [2, 40],
                       "knife_known": [10, 50], "knife_share": [0.2, 0.8], "rank": [1, 2]})
    for level in ("partner", "public"):
        out = disclose_frame(df, dc.rule_for(level))
        for col in ("n", "knife_n", "knife_known"):
            assert out[col].to_list() == [dc.count(v, level).value for v in df[col].to_list()], (level, col)
        assert out["top_venue_n"].to_list() == [[dc.count(v, level).value for v in row] for row in df["top_venue_n"].to_list()]
        assert out["knife_share"].to_list() == [None, 0.8]
        assert out["rank"].to_list() == [1, 2]  # not a count
    assert disclose_frame(df, dc.rule_for("none")).equals(df)
    # the engine's locality columns: offences on the peak day/hour, all offences, a float denominator
    eng = pl.DataFrame({"peak_weekday": [3, 5], "peak_weekday_n": pl.Series([2, 9], dtype=pl.UInt32),
                        "peak_hour_n": pl.Series([4, 6], dtype=pl.UInt32), "incidents": [1, 30],
                        "knife_known": [3.0, 12.0], "n_cells": [1, 2]})
    for level in ("partner", "public"):
        out = disclose_frame(eng, dc.rule_for(level))
        for col in ("peak_weekday_n", "peak_hour_n", "incidents", "knife_known"):
            want = [dc.count(int(v), level).value for v in eng[col].to_list()]
            assert out[col].to_list() == want, (level, col)
        assert out["peak_weekday"].to_list() == [3, 5] and out["n_cells"].to_list() == [1, 2]  # a day, cells


def test_workbook_has_the_review_actions_when_the_log_exists(sample_results, tmp_path):
    """The review group's agreed actions reach the workbook as an "actions" sheet (their latest
    version), read from the workspace's action log; with no log there is no such sheet."""
    from openpyxl import load_workbook

    from geodata.actions import open_log
    from geodata.workspace import actions_path
    from svtui.pack import build_pack

    empty = tmp_path / "empty-ws"
    empty.mkdir()
    res = build_pack(sample_results, tmp_path / "a", top=1, subjects=["Herefordshire"], workspace=empty)
    assert "actions" not in load_workbook(res.paths[2], read_only=True).sheetnames
    assert not actions_path(empty).exists()  # reading the pack never creates a log

    ws = tmp_path / "ws"
    with open_log(actions_path(ws)) as log:
        a = log.add("L-TEST", "=HYPERLINK(\"x\") Patrols on Friday nights", place_name="Town centre",
                    owner="Police", status="planned")
        log.update(a, status="running", notes="started in March")
    res = build_pack(sample_results, tmp_path / "b", top=1, subjects=["Herefordshire"], workspace=ws)
    wb = load_workbook(res.paths[2], read_only=True)
    assert wb.sheetnames[-2:] == ["actions", "provenance"]
    rows = list(wb["actions"].iter_rows(values_only=True))
    head = list(rows[0])
    assert len(rows) == 2  # one action, its latest version only
    row = dict(zip(head, rows[1]))
    assert row["status"] == "running" and row["notes"] == "started in March" and row["place_id"] == "L-TEST"
    assert not str(row["what"]).startswith("=")  # data, never a formula
    assert "Patrols on Friday nights" in row["what"]


def test_map_labels_never_cover_each_other():
    """A CSP name moves off a locality's label at its centre; a locality label moves off a
    marker and a label already placed; an area with no free room gets no name, never an overlap."""
    import shapely

    from svtui.pack.draw import _free_spot, _hits, _name_spot

    area = shapely.box(0, 0, 10000, 6000)
    centre_label = (4000, 2700, 6000, 3300)  # a locality label over the area's middle
    x, y = _name_spot(area, 3000, 500, [centre_label])
    name_box = (x - 1500, y - 250, x + 1500, y + 250)
    assert not _hits(name_box, [centre_label])
    assert area.contains(shapely.box(*name_box))
    assert abs(y - 3000) < 1500  # still near the middle, not thrown to a corner
    assert _name_spot(area, 3000, 500, [(-1, -1, 10001, 6001)]) is None
    taken = [(4900, 4900, 5100, 5100), (4000, 5100, 6000, 5600)]  # a marker and the label above it
    box = _free_spot(5000, 5000, 2000, 500, 100, taken, (0, 0, 10000, 10000))
    assert not _hits(box, taken)

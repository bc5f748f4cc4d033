"""`svtui brief --format md|txt|docx|html` (issue 16 must 1): Word and HTML through the pack's
writers, opened here as a reader would (python-docx; an HTML parser), with provenance beside them."""
from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest

from svtui.cli import main


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.links += [v for k, v in attrs if k in ("href", "src") and v and not v.startswith("data:")]

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def csp(sample_session):
    return sample_session.results().session.areas("csp").row(0, named=True)


def test_brief_writes_word_that_opens_with_every_section(tmp_path, sample_session, csp, capsys):
    import docx

    out = tmp_path / "b.docx"
    assert main(["brief", "--area", csp["code"], "--out", str(out)], session=sample_session) == 0
    d = docx.Document(str(out))
    heads = [p.text for p in d.paragraphs if p.style.name.startswith("Heading")]
    for title in ("Headline", "Where", "What", "Who", "When", "Risk factors", "Interventions and gaps",
                  "Suggested focus", "Data notes"):
        assert title in heads
    body = "\n".join(p.text for p in d.paragraphs)
    assert csp["name"] in body and "SYNTHETIC" in body and "\ue000" not in body
    prov = json.loads((tmp_path / "b.docx.provenance.json").read_text())
    assert prov["format"] == "docx" and prov["subject"]["code"] == csp["code"]
    # never overwrites without --force (the same exit as every export that would overwrite)
    before = out.read_bytes()
    assert main(["brief", "--area", csp["code"], "--out", str(out)], session=sample_session) != 0
    assert "already exists" in capsys.readouterr().err and out.read_bytes() == before
    assert main(["brief", "--area", csp["code"], "--out", str(out), "--force"], session=sample_session) == 0


def test_brief_writes_one_self_contained_html_file(tmp_path, sample_session, capsys):
    lid = sample_session.results().localities["locality_id"][0]
    out = tmp_path / "l.html"
    assert main(["brief", "--hotspot", lid, "--format", "html", "--out", str(out)], session=sample_session) == 0
    p = _Text()
    p.feed(out.read_text(encoding="utf-8"))
    text = " ".join(p.text)
    assert "h1" in p.tags and "Headline" in text and lid in text and "Data notes" in text
    assert p.links == []  # no external links or files


def test_docx_needs_a_file(sample_session, csp, capsys):
    assert main(["brief", "--area", csp["code"], "--format", "docx"], session=sample_session) != 0
    assert "--out" in capsys.readouterr().err

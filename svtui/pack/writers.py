"""Three writers for one :class:`svtui.pack.model.Document`: Word, one-file HTML and a workbook.

They lay out what the document holds and decide nothing. Text is data-safe for each format:
HTML escapes every string; the workbook neutralises cells a spreadsheet would run as formulas
(geodata.atomic.formula_safe_text); Word stores text runs, which never execute.
Every file is written atomically and never replaces an existing one without ``force``.
"""
from __future__ import annotations

import base64
import html
import io
import json
import math
from datetime import date, datetime
from pathlib import Path

import polars as pl

from geodata.atomic import formula_safe_text, write_atomic
from svtui.pack.model import Bullets, Document, Figure, Para, Table

# ---------------------------------------------------------------------------------------- docx


def write_docx(doc: Document, path: str | Path, force: bool = False) -> Path:
    from docx import Document as Docx
    from docx.enum.section import WD_ORIENT  # noqa: F401  (portrait A4 is the default below)
    from docx.shared import Cm, Pt, RGBColor

    d = Docx()
    sec = d.sections[0]
    sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)
    for side in ("left_margin", "right_margin"):
        setattr(sec, side, Cm(2.0))
    sec.top_margin = sec.bottom_margin = Cm(1.8)
    st = d.styles["Normal"]
    st.font.name = "Calibri"
    st.font.size = Pt(10)
    st.paragraph_format.space_after = Pt(4)
    for name, size in (("Heading 1", 15), ("Heading 2", 13), ("Heading 3", 10.5), ("Caption", 8.5)):
        d.styles[name].font.size = Pt(size)
        d.styles[name].paragraph_format.space_before = Pt(6 if name != "Caption" else 0)
        d.styles[name].paragraph_format.space_after = Pt(2)
    d.core_properties.title = doc.title
    d.core_properties.comments = "Written by svtui" + (" from SYNTHETIC sample data" if doc.synthetic else "")
    d.add_heading(doc.title, 0)
    p = d.add_paragraph(doc.subtitle)
    p.runs[0].italic = True
    first = True
    for s in doc.sections:
        h = d.add_heading(s.heading, s.level)
        # page break before the heading, not a break paragraph after the last page (which can leave a blank page)
        h.paragraph_format.page_break_before = bool(s.page_break and not first)
        first = False
        for b in s.blocks:
            if isinstance(b, Para):
                if b.style == "subhead":
                    d.add_heading(b.text, 3)
                    continue
                para = d.add_paragraph(b.text)
                if b.style == "lead":
                    para.runs[0].bold = True
                elif b.style == "note":
                    para.runs[0].italic = True
                    para.runs[0].font.color.rgb = RGBColor(0x55, 0x55, 0x55)
            elif isinstance(b, Bullets):
                for item in b.items:
                    d.add_paragraph(item, style="List Bullet")
            elif isinstance(b, Table):
                d.add_paragraph(b.title, style="Caption")
                t = d.add_table(rows=1, cols=len(b.columns))
                t.style = "Light Grid Accent 1"
                for cell, text in zip(t.rows[0].cells, b.columns):
                    cell.text = text
                for row in b.rows:
                    cells = t.add_row().cells
                    for cell, text in zip(cells, row):
                        cell.text = text
                if b.widths_cm:
                    t.autofit = False
                    for col, w in zip(t.columns, b.widths_cm):
                        col.width = Cm(w)
                    for row in t.rows:
                        for cell, w in zip(row.cells, b.widths_cm):
                            cell.width = Cm(w)
                for row in t.rows:
                    for cell in row.cells:
                        for para in cell.paragraphs:
                            for run in para.runs:
                                run.font.size = Pt(8.5)
                if b.caption:
                    d.add_paragraph(b.caption, style="Caption")
            elif isinstance(b, Figure):
                d.add_picture(io.BytesIO(b.png), width=Cm(min(b.width_cm, 17.0)))
                d.add_paragraph(b.caption, style="Caption")

    def save(tmp: Path) -> None:
        d.save(str(tmp))

    return write_atomic(path, save, force=force)


# ---------------------------------------------------------------------------------------- html

CSS = """
@page { size: A4; margin: 16mm 15mm; }
body { font-family: Calibri, "Segoe UI", Arial, sans-serif; font-size: 10.5pt; line-height: 1.4; color: #111;
       max-width: 180mm; margin: 0 auto; padding: 8mm 0; }
h1.title { font-size: 20pt; margin: 0 0 2mm; }
p.subtitle { font-style: italic; color: #444; margin-top: 0; }
h1 { font-size: 16pt; border-bottom: 1.5pt solid #333; padding-bottom: 1mm; }
h2 { font-size: 14pt; border-bottom: 0.75pt solid #666; }
h3 { font-size: 11.5pt; margin: 4mm 0 1mm; }
p.lead { font-weight: bold; }
p.note { font-style: italic; color: #555; }
figure { margin: 3mm 0; break-inside: avoid; page-break-inside: avoid; }
figure img { max-width: 100%; height: auto; display: block; }
figcaption, caption { font-size: 9pt; color: #333; text-align: left; margin-top: 1mm; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; margin: 2mm 0; break-inside: avoid; }
th, td { border: 0.5pt solid #999; padding: 0.8mm 1.5mm; text-align: left; vertical-align: top; }
th { background: #e8e8e8; }
section.page { break-before: page; page-break-before: always; }
.synthetic { border: 1pt solid #000; padding: 2mm; font-weight: bold; }
@media screen { section.page { border-top: 1px dashed #bbb; margin-top: 12mm; padding-top: 4mm; } }
"""


def render_html(doc: Document) -> str:
    e = lambda s: html.escape(str(s), quote=True)  # noqa: E731
    out = ["<!DOCTYPE html>", '<html lang="en-GB"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{e(doc.title)}</title><style>{CSS}</style></head><body>",
           f'<h1 class="title">{e(doc.title)}</h1>', f'<p class="subtitle">{e(doc.subtitle)}</p>']
    first = True
    for s in doc.sections:
        cls = ' class="page"' if s.page_break and not first else ""
        first = False
        out.append(f'<section{cls} id="{e(s.kind)}-{e(s.key)}">')
        out.append(f"<h{s.level}>{e(s.heading)}</h{s.level}>")
        for b in s.blocks:
            if isinstance(b, Para):
                if b.style == "subhead":
                    out.append(f"<h3>{e(b.text)}</h3>")
                elif b.style == "note" and b.text.startswith("SYNTHETIC"):
                    out.append(f'<p class="synthetic">{e(b.text)}</p>')
                else:
                    out.append(f'<p class="{e(b.style)}">{e(b.text)}</p>')
            elif isinstance(b, Bullets):
                out.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in b.items) + "</ul>")
            elif isinstance(b, Table):
                rows = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in b.rows)
                out.append(f"<table><caption>{e(b.title)}</caption><thead><tr>"
                           + "".join(f"<th>{e(c)}</th>" for c in b.columns) + f"</tr></thead><tbody>{rows}</tbody></table>")
                if b.caption:
                    out.append(f'<p class="note">{e(b.caption)}</p>')
            elif isinstance(b, Figure):
                data = base64.b64encode(b.png).decode("ascii")
                out.append(f'<figure class="{e(b.kind)}"><img alt="{e(b.alt)}" src="data:image/png;base64,{data}">'
                           f"<figcaption>{e(b.caption)}</figcaption></figure>")
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def write_html(doc: Document, path: str | Path, force: bool = False) -> Path:
    text = render_html(doc)
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), force=force)


# ---------------------------------------------------------------------------------------- xlsx


def _cell(v):
    if v is None:
        return None
    if isinstance(v, float):
        return None if not math.isfinite(v) else v
    if isinstance(v, (list, tuple)):
        return formula_safe_text("; ".join("" if x is None else str(x) for x in v))
    if isinstance(v, (date, datetime, int, bool)):
        return v
    if isinstance(v, bytes):
        return None
    if isinstance(v, dict):
        return formula_safe_text(json.dumps(v, default=str))
    return formula_safe_text(str(v))


def _flatten(obj, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(obj, dict):
        out = []
        for k, v in obj.items():
            out += _flatten(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    if isinstance(obj, list) and obj and all(isinstance(x, dict) for x in obj):
        out = []
        for i, v in enumerate(obj):
            out += _flatten(v, f"{prefix}[{i}]")
        return out
    if isinstance(obj, list):
        return [(prefix, "; ".join(str(x) for x in obj))]
    return [(prefix, "" if obj is None else str(obj))]


def write_xlsx(doc: Document, path: str | Path, force: bool = False) -> Path:
    """One sheet per table (doc.tables, in order) and a provenance sheet."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    for name, frame in doc.tables.items():
        ws = wb.create_sheet(title=name[:31])
        ws.freeze_panes = "A2"
        head = []
        for c in frame.columns:
            cell = WriteOnlyCell(ws, value=formula_safe_text(c))
            cell.font = bold
            head.append(cell)
        ws.append(head)
        for row in frame.iter_rows():
            ws.append([_cell(v) for v in row])
    ws = wb.create_sheet(title="provenance")
    ws.append([WriteOnlyCell(ws, value="field"), WriteOnlyCell(ws, value="value")])
    if doc.synthetic:
        ws.append(["warning", "SYNTHETIC sample data: every area, venue and offence is made up."])
    for k, v in _flatten(doc.provenance):
        ws.append([formula_safe_text(k), formula_safe_text(v)])
    return write_atomic(path, lambda tmp: wb.save(str(tmp)), force=force)

"""`svtui brief`: briefing text for an area or a hotspot locality (registered on import by
svtui.commands), built by svtui.briefing from one hotspot.session.Results, exactly as the
workbench's briefing screen.

One subject prints (or, with --out FILE, writes) one briefing. A batch (--all-csps, --top N,
--subjects ...) writes one file per subject into the folder --out names, all from one loaded and
analysed study: the study is read once, analysed once, and every briefing asks the same Results.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from svtui.cli import add_out_options, command, fail, results_from_args
from svtui.safe import plain


def _opts(p) -> None:
    who = p.add_mutually_exclusive_group()
    who.add_argument("--area", metavar="NAME|CODE",
                     help="an area at any level: CSP, district, ward, LSOA or force, by ONS code or name "
                          "(default: the whole study area)")
    who.add_argument("--hotspot", metavar="ID", help="a hotspot locality id from svtui hotspots (e.g. L-SO850550)")
    p.add_argument("--all-csps", action="store_true",
                   help="a briefing for every CSP (a batch: --out names a folder)")
    p.add_argument("--top", type=int, metavar="N", default=None,
                   help="briefings for the N hotspot localities with most harm (a batch: --out names a folder)")
    p.add_argument("--subjects", nargs="+", metavar="NAME|CODE|ID",
                   help="briefings for these areas and hotspots (a batch: --out names a folder)")
    p.add_argument("--format", choices=FORMATS, default=None,
                   help="md (Markdown), txt (plain text), docx (Word, needs --out) or html (one self-contained "
                        "file) (default: from --out's extension, else md)")
    p.add_argument("--disclosure", choices=("none", "partner", "public"), default="partner",
                   help="partner (default): counts of 1-4 as 'fewer than 5'; public: also rounded to 5 and small "
                        "localities left out; none: internal use only")
    add_out_options(p, "the briefing (a batch: into the folder FILE)", ".md, .txt, .docx or .html; its provenance beside it")
    p.add_argument("--json", action="store_true", help="print the structured briefing (sections and figures) as JSON")


FORMATS = ("md", "txt", "docx", "html")
_EXT = {".txt": "txt", ".text": "txt", ".docx": "docx", ".html": "html", ".htm": "html"}


def _format(args, out: str | None = None) -> str:
    if args.format:
        return args.format
    return _EXT.get(Path(out).suffix.lower(), "md") if out else "md"


def briefing_document(b):
    """The briefing as the pack's document model (svtui.pack.model), so Word and HTML come from
    the pack's own writers: one section per briefing section, paragraphs and bullet lists."""
    from svtui.briefing.model import _strip_marks
    from svtui.pack.model import Bullets, Document, Para, Section
    from svtui.safe import plain

    doc = Document(title=plain(b.title, None), subtitle=plain(b.subtitle, None), synthetic=b.synthetic)
    if b.synthetic:
        doc.sections.append(Section("SYNTHETIC sample data", "notes", level=2, blocks=[Para(
            "Every area, venue and offence in this briefing is made up. Do not use it for decisions.", "note")]))
    for s in b.sections:
        blocks, items = [], []
        for kind, raw in s.blocks:
            text = plain(_strip_marks(raw), None)
            if kind == "li":
                items.append(text)
                continue
            if items:
                blocks.append(Bullets(items))
                items = []
            blocks.append(Para(text, "lead" if s.id == "headline" else ("note" if s.id == "notes" else "body")))
        if items:
            blocks.append(Bullets(items))
        doc.sections.append(Section(plain(s.title, None), "notes" if s.id == "notes" else b.subject_kind,
                                    key=s.id, level=2, blocks=blocks))
    return doc


def write_briefing_file(b, fmt: str, path, force: bool, prov: dict) -> Path:
    """Word or HTML through the pack's writers (svtui.pack.writers.write_docx / write_html), with
    the provenance beside it; the one place that calls them, so a signature change is one edit."""
    from geodata.atomic import write_text_atomic
    from svtui.export import _check_free, sidecar_path
    from svtui.pack.writers import write_docx, write_html

    path = Path(path)
    side = sidecar_path(path)
    _check_free([path, side], force)  # WouldOverwrite: the same exit as every export
    out = (write_docx if fmt == "docx" else write_html)(briefing_document(b), path, force=force)
    prov = dict(prov, sidecar_of=path.name, format=fmt)
    write_text_atomic(json.dumps(prov, indent=2, default=str) + "\n", side, force=force)
    return out


def slug(text: str) -> str:
    """A file name from a subject's name (letters, digits and hyphens only)."""
    s = re.sub(r"[^A-Za-z0-9]+", "-", plain(text, 80)).strip("-").lower()
    return s or "briefing"


def subjects(args, res) -> list[tuple[str, str]]:
    """The batch's subjects as ("area" | "hotspot", name or code), in the order given."""
    out: list[tuple[str, str]] = []
    if args.all_csps:
        csps = res.session.areas("csp")
        out += [("area", c) for c in csps["code"].to_list()]
    if args.top is not None:
        if args.top < 1:
            raise ValueError(f"--top {args.top}: give a number of localities, 1 or more")
        loc = res.localities
        if loc.height:
            order = loc.sort(["harm", "locality_id"], descending=[True, False]) if "harm" in loc.columns else loc
            out += [("hotspot", lid) for lid in order["locality_id"].head(args.top).to_list()]
    for s in args.subjects or []:
        is_locality = res.localities.height and s.strip().upper() in {i.upper() for i in res.localities["locality_id"]}
        out.append(("hotspot" if is_locality else "area", s))
    return list(dict.fromkeys(out))


def _text(b, args, out: str | None = None) -> str:
    from svtui.briefing import render

    if args.json:
        return json.dumps(b.to_dict(), indent=2, default=str) + "\n"
    return render(b, _format(args, out))


def _prov(res, b, args) -> dict:
    from svtui.export import provenance

    return provenance(res, kind="briefing", extra={
        "subject": {"kind": b.subject_kind, "level": b.subject_level, "code": b.subject_code, "name": b.subject_name},
        "disclosure": b.disclosure, "format": "json" if args.json else _format(args)})


@command("brief", "Write the briefing text for an area or a hotspot: headline, where, what, who, when, risk, "
                  "interventions, suggested focus and data notes. --all-csps, --top N or --subjects write many "
                  "from one load.", _opts)
def brief(args) -> int:
    from svtui.briefing import build_briefing

    batch = bool(args.all_csps or args.top is not None or args.subjects)
    if batch and (args.area or args.hotspot):
        return fail("brief: give --area/--hotspot for one briefing, or --all-csps/--top/--subjects for a batch")
    if batch:
        return _batch(args)
    res = results_from_args(args)
    try:
        b = build_briefing(res, area=args.area, hotspot=args.hotspot, disclosure=args.disclosure)
    except ValueError as exc:
        return fail(exc)
    fmt = _format(args, args.out)
    if fmt in ("docx", "html") and not args.json:
        if not args.out:
            if fmt == "docx":
                return fail("brief --format docx: give --out FILE.docx (Word is a file, not text for the terminal)")
            from svtui.pack.writers import render_html

            sys.stdout.write(render_html(briefing_document(b)))
            return 0
        path = write_briefing_file(b, fmt, args.out, args.force, _prov(res, b, args))
        print(f"Briefing written to {plain(str(path), 300)}, with its provenance")
        return 0
    text = _text(b, args, args.out)
    if args.out:
        from svtui.export import export_briefing

        path = export_briefing(text, args.out, force=args.force, prov=_prov(res, b, args))
        print(f"Briefing written to {plain(str(path), 300)}, with its provenance")
        return 0
    sys.stdout.write(text)
    return 0


def _batch(args) -> int:
    """Several briefings from one Results: each into --out DIR as <kind>-<slug>.md (or .txt)."""
    from svtui.briefing import build_briefing
    from svtui.export import export_briefing, sidecar_path

    if not args.out:
        return fail("brief: a batch (--all-csps, --top, --subjects) needs --out DIR, the folder to write into")
    folder = Path(args.out)
    if folder.exists() and not folder.is_dir():
        return fail(f"{args.out}: is a file (fix: give a folder for a batch of briefings)")
    res = results_from_args(args)
    try:
        wanted = subjects(args, res)
    except ValueError as exc:
        return fail(exc)
    ext = ".json" if args.json else "." + _format(args)
    built, skipped = [], []
    for kind, key in wanted:  # build every briefing first: nothing is written if a name is wrong
        try:
            b = build_briefing(res, **{"hotspot" if kind == "hotspot" else "area": key}, disclosure=args.disclosure)
        except ValueError as exc:
            if kind == "hotspot" and "disclosure rule" in str(exc):
                skipped.append((key, str(exc)))  # public rule: small localities are left out
                continue
            return fail(exc)
        name = f"{'hotspot' if b.subject_kind == 'hotspot' else b.subject_level}-{slug(b.subject_code)}-{slug(b.subject_name)}"
        built.append((b, folder / f"{name}{ext}"))
    if not args.force:
        taken = [p for _b, p in built for q in (p, sidecar_path(p)) if q.exists()]
        if taken:
            return fail(f"{taken[0]}: already exists (fix: choose another folder or pass --force)")
    folder.mkdir(parents=True, exist_ok=True)
    for b, path in built:
        if not args.json and _format(args) in ("docx", "html"):
            write_briefing_file(b, _format(args), path, args.force, _prov(res, b, args))
        else:
            export_briefing(_text(b, args, str(path)), path, force=args.force, prov=_prov(res, b, args))
        print(f"{plain(b.subject_code, 40)}: {plain(str(path), 300)}")
    for key, why in skipped:
        print(f"svtui: {plain(key, 40)} left out: {plain(why, 300)}", file=sys.stderr)
    n = len(built)
    print(f"Wrote {n} {'briefing' if n == 1 else 'briefings'} to {plain(str(folder), 300)}, each with its provenance "
          "(one load and one analysis)")
    return 0

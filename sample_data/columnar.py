"""Build the sample study's prepared columnar copy: sample_data/study/prepared/*.parquet.

    python -m sample_data.columnar [--study sample_data/study/study.toml]

The workbench's first screen waits for the study to load; reading the sample's CSVs, checking
every row and assigning areas takes seconds. The prepared copy holds what `load_study` returns
(incidents with areas assigned, A&E, venues, indicators, the ledger with its quarantined rows and
notes) as Parquet, with the hashes of the files and readers it was built from
(`geodata.study.prepared_inputs`). `load_study` uses it only while those hashes match, so a
changed CSV or reader is read from the CSVs again, never from a stale copy. The copy is built
by `load_study` itself (from the CSVs), so it cannot differ from a CSV read; the build is
deterministic (same inputs, same bytes). `sample_data/generate.py` calls `build` last.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_STUDY = HERE / "study" / "study.toml"


def build(study_toml: Path = DEFAULT_STUDY) -> Path:
    """Read the study from its CSVs and write its prepared copy beside them; return the folder."""
    from geodata.study import load_spec, load_study, prepared_dir, write_prepared

    spec = load_spec(study_toml)
    study = load_study(spec, cache=False, prepared=False)
    return write_prepared(study, prepared_dir(spec))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sample_data.columnar",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--study", type=Path, default=DEFAULT_STUDY)
    args = ap.parse_args(argv)
    print(f"wrote prepared copy to {build(args.study)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

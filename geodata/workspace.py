"""Where a study keeps what the partnership adds to it: adopted localities, the action log.

The workspace is a folder. Rule (one rule, used by every command and the workbench):
1. the folder named by ``--workspace`` (or ``SVTUI_WORKSPACE``), created if missing;
2. for a study read from a ``study.toml``: ``[settings] workspace`` in that file (relative to it),
   else a folder named ``workspace`` beside the file;
3. for the embedded SYNTHETIC sample study: ``svtui-sample-workspace`` in the current folder, so the
   installed package is never written to;
4. for an ad-hoc study (paths given as flags) there is no default: the user names a folder.
Nothing is ever written to the home folder unless the user names it.
"""
from __future__ import annotations

import os
from pathlib import Path

from geodata.errors import SourceError

ADOPTED_FILE = "adopted_localities.geojson"  # EPSG:4326 GeoJSON, one feature per adopted locality
ACTIONS_FILE = "actions.sqlite"  # the action log (hotspot review sessions)
SAMPLE_WORKSPACE = "svtui-sample-workspace"


def resolve_workspace(spec, override: str | Path | None = None, create: bool = False) -> Path:
    """The workspace folder for a study (see the module docstring for the rule).

    spec: a geodata.study.StudySpec. Raises SourceError with the fix when there is no default.
    """
    chosen = override or os.environ.get("SVTUI_WORKSPACE") or None
    if chosen:
        path = Path(chosen).expanduser().resolve()
    elif getattr(spec, "workspace", None):
        path = Path(spec.workspace)
    elif spec.origin not in ("flags", "") and Path(spec.origin).is_file():
        from geodata.study import SAMPLE_DIR

        study_file = Path(spec.origin)
        if study_file.parent.resolve() == SAMPLE_DIR.resolve():
            path = Path.cwd().resolve() / SAMPLE_WORKSPACE
        else:
            path = study_file.parent / "workspace"
    else:
        raise SourceError("--workspace", "this study has no workspace folder",
                          "name one with --workspace DIR (or set SVTUI_WORKSPACE)")
    if path.exists() and not path.is_dir():
        raise SourceError(path, "the workspace is a file, not a folder", "name a folder with --workspace DIR")
    if create:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SourceError(path, f"cannot create the workspace folder ({exc.strerror})",
                              "name a writable folder with --workspace DIR") from None
    return path


def adopted_path(workspace: Path) -> Path:
    return Path(workspace) / ADOPTED_FILE


def actions_path(workspace: Path) -> Path:
    return Path(workspace) / ACTIONS_FILE

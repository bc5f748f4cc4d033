"""The workbench's door to the engine and to the briefing/export modules.

The screens never compute statistics: they call the engine (``hotspot.*``) and the briefing and
export modules (``svtui.briefing``, ``svtui.export``). Some of those are optional (being built
in parallel): :func:`find` looks them up by module and function name and returns ``None`` when
they are absent, so a screen can show a clear "not available yet" placeholder instead of failing.
"""
from __future__ import annotations

import importlib
import importlib.util
import threading
from dataclasses import dataclass

_lock = threading.Lock()
_errors: dict[str, str] = {}


@dataclass(frozen=True)
class Feature:
    key: str
    module: str
    names: tuple[str, ...]
    what: str  # how to name it to an analyst
    where: str  # where it comes from (for the placeholder)


FEATURES = {
    "area_profiles": Feature("area_profiles", "hotspot.area_profiles", ("area_profiles",), "Area profiles", "hotspot/area_profiles.py (issue 4)"),
    "duty_measures": Feature("duty_measures", "hotspot.measures", ("duty_measures",), "Serious Violence Duty measures", "hotspot/measures.py (issue 4)"),
    "risk_factors": Feature("risk_factors", "hotspot.risk", ("risk_factors",), "Risk factors", "hotspot/risk.py (issue 4)"),
    "coverage": Feature("coverage", "hotspot.coverage", ("coverage",), "Intervention coverage", "hotspot/coverage.py (issue 4)"),
    "briefing": Feature(
        "briefing",
        "svtui.briefing",
        ("briefing", "locality_briefing", "area_briefing", "brief", "briefing_markdown", "render_briefing"),
        "Briefing text",
        "svtui/briefing.py",
    ),
    "export": Feature("export", "svtui.export", ("export_table", "export_frame", "export", "write_table"), "Export", "svtui/export.py"),
}


def find(key: str):
    """The callable for feature `key`, or None when its module or function does not exist yet."""
    f = FEATURES[key]
    try:
        if importlib.util.find_spec(f.module) is None:
            return None
    except (ImportError, ValueError):
        return None
    try:
        with _lock:
            mod = importlib.import_module(f.module)
    except Exception as exc:  # noqa: BLE001  (a half-written module must not take the workbench down)
        _errors[key] = f"{type(exc).__name__}: {exc}"
        return None
    for name in f.names:
        fn = getattr(mod, name, None)
        if callable(fn):
            return fn
    return None


def module(key: str):
    """The module of feature `key` (or None)."""
    f = FEATURES[key]
    try:
        if importlib.util.find_spec(f.module) is None:
            return None
        with _lock:
            return importlib.import_module(f.module)
    except Exception as exc:  # noqa: BLE001
        _errors[key] = f"{type(exc).__name__}: {exc}"
        return None


def placeholder(key: str) -> str:
    """The sentence shown where feature `key` would be."""
    f = FEATURES[key]
    err = _errors.get(key)
    if err:
        return f"{f.what}: not available ({f.where} failed to load: {err})"
    return f"{f.what}: not available yet — {f.where} is still being built."


def status() -> dict[str, bool]:
    return {k: find(k) is not None for k in FEATURES}

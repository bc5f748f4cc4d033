"""CLI subcommands (registered on import by svtui.commands)."""
from __future__ import annotations

"""Errors a user can act on: one line naming the file and the fix."""
from __future__ import annotations


class SourceError(Exception):
    """A source cannot be read at all. The message names the file and says how to fix it."""

    def __init__(self, path: str, problem: str, fix: str = "") -> None:
        self.path = str(path)
        self.problem = problem
        self.fix = fix
        msg = f"{self.path}: {problem}"
        if fix:
            msg += f" (fix: {fix})"
        super().__init__(msg)

"""Errors a user can act on: one line naming the file and the fix."""
from __future__ import annotations

import re

# A header row as spreadsheets and partner systems write them: short names of letters, digits,
# spaces and a little punctuation. Anything else quoted after "(found: ...)" is the first line of
# a file that is not a CSV at all (a system file or a document named by mistake): its contents
# are never printed, only that it is not a CSV.
_FOUND = re.compile(r"\(found: (.*)\)\s*$", re.S)
_HEADER_NAME = re.compile(r"^[\w .()/%&'#+\-]{0,60}$")
NOT_A_CSV = "(its first line is not a row of column names: this does not look like a CSV data file)"


def _redact_found(problem: str) -> str:
    m = _FOUND.search(problem)
    if not m:
        return problem
    names = [n.strip() for n in m.group(1).split(", ")]
    if m.group(1) == "none" or (len(names) >= 2 and all(_HEADER_NAME.match(n) for n in names)):
        return problem
    return problem[: m.start()] + NOT_A_CSV


class SourceError(Exception):
    """A source cannot be read at all. The message names the file and says how to fix it."""

    def __init__(self, path: str, problem: str, fix: str = "") -> None:
        self.path = str(path)
        self.problem = _redact_found(problem)
        self.fix = fix
        msg = f"{self.path}: {self.problem}"
        if fix:
            msg += f" (fix: {fix})"
        super().__init__(msg)

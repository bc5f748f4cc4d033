"""Moved to :mod:`svtui.fmt`, the one way to print a number; this name stays so the workbench's
``from svtui.widgets import fmt`` keeps working. ``fmt.change(v)`` here is the coloured cell."""
from svtui.fmt import *  # noqa: F401,F403
from svtui.fmt import DASH, SPARK, WEEKDAYS, change_text as change, is_missing  # noqa: F401

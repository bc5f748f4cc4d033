"""One function run on a thread of its own, its result (or exception) taken later.

For work that NumPy, Polars, shapely or PROJ do outside the GIL, so that on two cores it
overlaps what the calling thread does next (a boundary file read while crime files are, the
count Gi* while the harm Gi* is computed). The exception, if any, is raised by `result()` in
the caller, as if the call had been made there.
"""
from __future__ import annotations

import threading


class Background:
    def __init__(self, fn, *args, **kwargs):
        self._out = self._err = None
        self._thread = threading.Thread(target=self._run, args=(fn, args, kwargs), daemon=True,
                                        name="svtui-background")
        self._thread.start()

    def _run(self, fn, args, kwargs) -> None:
        try:
            self._out = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 (handed to the caller by result())
            self._err = exc

    def result(self):
        """Wait for the call; its return value, or its exception raised here."""
        self._thread.join()
        if self._err is not None:
            err, self._err = self._err, None
            raise err
        return self._out

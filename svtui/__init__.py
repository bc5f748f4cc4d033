"""svtui: the serious-violence hotspot workbench (terminal UI and command line)."""
import os

# NumPy asks the kernel for transparent huge pages on every array of 4 MB or more. svtui's
# commands are short-lived and touch each raster-sized array (a force's 100 m grid is ~1.6M
# cells, 13 MB) a few times, so zeroing and compacting huge pages costs more than the TLB saves:
# on the 2-core benchmark machine it doubled the system time of `svtui hotspots`
# (bench/README.md). Read by NumPy at import; a value the user sets wins.
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")

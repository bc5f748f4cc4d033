"""Readers: every input file to canonical frames in BNG metres, with the row ledger."""
import os as _os

# Offline always: PROJ (pyproj and GDAL) must not download grids even if PROJ_NETWORK=ON.
# Set before pyproj or GDAL is imported by any reader; geodata.crs also switches pyproj off.
_os.environ["PROJ_NETWORK"] = "OFF"

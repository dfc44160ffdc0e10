"""hsweep - read hsweep results files (written by `hsweep run`) into pandas.

    import hsweep
    runs = hsweep.read_runs("results.h5")      # one row per run: id, status, config keys, provenance
    long = hsweep.read_records("results.h5")   # one row per (run, record point)

Needs only numpy, h5py and pandas (Debian: python3-numpy, python3-h5py, python3-pandas).
"""
from .results import (PROVENANCE, STATES, is_config, parse_provenance, read_layers, read_records,
                      read_runs, read_series, read_series_long, series_axes, series_names)
from .tables import read_table_csv, read_table_md, read_tables, table_kinds

__version__ = "0.1.0"
__all__ = ["PROVENANCE", "STATES", "is_config", "parse_provenance", "read_layers", "read_records",
           "read_runs", "read_series", "read_series_long", "series_axes", "series_names",
           "read_table_csv", "read_table_md", "read_tables", "table_kinds"]

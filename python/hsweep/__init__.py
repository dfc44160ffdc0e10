"""hsweep - read hsweep results files (written by `hsweep run`, `hsweep analyze`) into pandas.

    import hsweep
    runs = hsweep.read_runs("results.h5")      # one row per run: id, status, config keys, provenance
    long = hsweep.read_records("results.h5")   # one row per (run, record point)
    eq = hsweep.read_analysis("results.h5", "equisep")  # .runs, .configs, .tables, .arrays, .attrs
    s = hsweep.read_searches("results.h5")     # one row per (searching stage, group)

Every reader opens the file read-only without HDF5's file lock, so it is safe on a file a sweep
is writing (see results._open). Needs only numpy, h5py and pandas (Debian: python3-numpy,
python3-h5py, python3-pandas).
"""
from .analysis import Analysis, analysis_names, read_analysis
from .results import (PROVENANCE, STATES, is_config, parse_provenance, read_layers, read_records,
                      read_runs, read_series, read_series_long, series_axes, series_names)
from .searches import SEARCH_STATES, read_searches
from .tables import read_table_csv, read_table_md, read_tables, table_kinds

__version__ = "0.1.0"
__all__ = ["Analysis", "PROVENANCE", "SEARCH_STATES", "STATES", "analysis_names", "is_config", "parse_provenance",
           "read_analysis", "read_layers", "read_records", "read_runs", "read_searches", "read_series",
           "read_series_long", "read_table_csv", "read_table_md", "read_tables", "series_axes", "series_names",
           "table_kinds"]

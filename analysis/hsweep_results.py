"""hsweep_results - the reader's old import name, kept for scripts that add analysis/ to sys.path.
The reader is the package `hsweep` (python/hsweep); when it is not importable already, this finds
it beside analysis/: python/ in the source tree, lib/python3.X/site-packages of an install
(analysis/ is P/share/hsweep/analysis there)."""
import glob
import os
import sys

try:
    import hsweep  # noqa: F401
except ImportError:
    here = os.path.dirname(os.path.abspath(__file__))
    for d in [os.path.join(here, "..", "python")] + sorted(
            glob.glob(os.path.join(here, "..", "..", "..", "lib", "python3*", "site-packages"))):
        if os.path.isfile(os.path.join(d, "hsweep", "__init__.py")):
            sys.path.insert(0, os.path.abspath(d))
            break
from hsweep.results import *  # noqa: F401,F403,E402
from hsweep.results import main  # noqa: E402
from hsweep import analysis_names, read_analysis, read_searches  # noqa: F401,E402

if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""hsweep_results - the reader's old import name, kept for scripts that add analysis/ to sys.path.
The reader is the package `hsweep` (python/hsweep); this finds it beside analysis/ (the source tree
and share/hsweep/ of an install both have python/ there) when it is not installed."""
import os
import sys

try:
    from hsweep.results import *  # noqa: F401,F403
    from hsweep.results import main
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
    from hsweep.results import *  # noqa: F401,F403
    from hsweep.results import main

if __name__ == "__main__":
    sys.exit(main(sys.argv))

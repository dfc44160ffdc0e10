"""python3 -m hsweep RESULTS.h5 - print a summary of a results file (hsweep.results.main)."""
import sys

from .results import main

sys.exit(main(sys.argv))

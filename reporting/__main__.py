"""`python -m reporting`: the report page (see reporting.report)."""

import sys

from common.flags import left_to_exit
from reporting.report import main

if __name__ == "__main__":
    try:
        status = main()
        left_to_exit()
        sys.exit(status)
    except KeyboardInterrupt:  # the engine has stopped its jobs; finished runs are kept
        print("\nreporting: interrupted; run the same command again to continue", file=sys.stderr)
        sys.exit(130)

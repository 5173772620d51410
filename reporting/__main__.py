"""`python -m reporting`: the report page (see reporting.report)."""

import sys

from reporting.report import main

if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the engine has stopped its jobs; finished runs are kept
        print("\nreporting: interrupted; run the same command again to continue", file=sys.stderr)
        sys.exit(130)

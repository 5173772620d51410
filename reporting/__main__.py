"""`python -m reporting`: the report page (see reporting.report)."""

import sys

from reporting.report import main

if __name__ == "__main__":
    sys.exit(main())

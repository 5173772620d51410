"""`python -m league`: the creativity league (see league.league)."""

import sys

from league.league import main

if __name__ == "__main__":
    sys.exit(main())

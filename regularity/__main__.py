"""``python -m regularity``: the command line (`regularity.cli`)."""

import sys

from regularity.cli import main

if __name__ == "__main__":
    sys.exit(main(own_process=True))

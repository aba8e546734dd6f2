"""Download, check and extract a public dataset.

python scripts/fetch_data.py ped2 --dest data/
python scripts/fetch_data.py avenue --dest data/ --mirror http://my.mirror/avenue/
"""

from __future__ import annotations

import argparse
import sys

from regularity.datasets.fetch import SOURCES, fetch
from regularity.errors import exit_status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=sorted(SOURCES))
    parser.add_argument("--dest", default="data", help="data root (default: data/)")
    parser.add_argument("--mirror", help="base URL of a copy of the archives")
    args = parser.parse_args()

    def fetch_and_list() -> None:
        for folder in fetch(args.name, args.dest, mirror=args.mirror):
            print(folder)

    return exit_status(fetch_and_list, status=1)


if __name__ == "__main__":
    sys.exit(main())

"""Download, check and extract a public dataset.

python scripts/fetch_data.py ped2 --dest data/
python scripts/fetch_data.py avenue --dest data/ --mirror http://my.mirror/avenue/
"""

from __future__ import annotations

import argparse
import sys

from regularity.datasets.fetch import SOURCES, fetch
from regularity.errors import RegularityError


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=sorted(SOURCES))
    parser.add_argument("--dest", default="data", help="data root (default: data/)")
    parser.add_argument("--mirror", help="base URL of a copy of the archives")
    args = parser.parse_args()
    try:
        for folder in fetch(args.name, args.dest, mirror=args.mirror):
            print(folder)
    except RegularityError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

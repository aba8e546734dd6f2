"""Execute notebooks in order with papermill, all writing into one run folder.

    python scripts/run_notebooks.py 01 02 --name demo                   the synthetic default
    python scripts/run_notebooks.py 01 02 --name ped2 -p dataset ped2 -p data_root ../shared/data
    python scripts/run_notebooks.py 01 02 --name ped2 --params ped2.yaml

Notebooks are chosen by number prefix from notebooks/ (no list to keep by hand). Every
notebook gets ``run_dir = runs/<name>``; executed copies go to ``runs/<name>/notebooks/``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import papermill
import yaml

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def find_notebooks(prefixes: list[str]) -> list[Path]:
    """Notebooks whose names start with each prefix, in the order given (all when empty)."""
    if not prefixes:
        return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    found = []
    for prefix in prefixes:
        matches = sorted(NOTEBOOKS.glob(f"{prefix}*.ipynb"))
        if not matches:
            raise SystemExit(f"error: no notebook in {NOTEBOOKS} starts with '{prefix}'")
        found.extend(matches)
    return found


def parse_value(text: str) -> object:
    """A flag value as YAML reads it: numbers, booleans, lists, or the string itself."""
    return yaml.safe_load(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="number prefixes, e.g. 01 02")
    parser.add_argument("--name", default="demo", help="run name: outputs go to runs/<name>/")
    parser.add_argument("--runs", default="runs", help="folder of runs")
    parser.add_argument("--params", type=Path, help="YAML file of parameters")
    parser.add_argument(
        "-p",
        nargs=2,
        action="append",
        default=[],
        metavar=("KEY", "VALUE"),
        help="one parameter (repeatable); overrides --params",
    )
    args = parser.parse_args()

    run_dir = Path(args.runs) / args.name
    params = yaml.safe_load(args.params.read_text()) if args.params else {}
    params.update({key: parse_value(value) for key, value in args.p})
    params.setdefault("run_dir", str(run_dir))
    out = run_dir / "notebooks"
    out.mkdir(parents=True, exist_ok=True)
    for notebook in find_notebooks(args.notebooks):
        print(f"== {notebook.name} -> {out / notebook.name}", flush=True)
        papermill.execute_notebook(
            notebook,
            out / notebook.name,
            parameters=params,
            cwd=Path.cwd(),
            progress_bar=False,
            log_output=True,
        )
    print(f"results in {run_dir}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())

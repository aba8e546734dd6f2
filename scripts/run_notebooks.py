"""Execute notebooks in order with papermill, all writing into one run folder.

    python scripts/run_notebooks.py 01 02 --name demo                   the synthetic default
    python scripts/run_notebooks.py 01 02 --name ped2 -p recipe ped2 -p data_root ../shared/data
    python scripts/run_notebooks.py 01 02 --name ped2 --params ped2.yaml

Notebooks are chosen by number prefix from notebooks/ (no list to keep by hand). Every
notebook gets ``run_dir = runs/<name>``; executed copies go to ``runs/<name>/notebooks/``.
Relative paths, here and in the notebooks, are taken from the project root (the folder holding
``pyproject.toml``), so a notebook stepped through in Jupyter finds the same folders.
Each notebook is given the parameters its ``parameters`` cell declares; a parameter that none
of the chosen notebooks declares is refused before anything runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import papermill
import yaml

from regularity.errors import ParameterError, RegularityError
from regularity.run.files import project_path

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


def split_parameters(notebooks: list[Path], params: dict) -> dict[Path, dict]:
    """The parameters each notebook declares in its cell tagged ``parameters``.

    Raises:
        ParameterError: a parameter that none of the notebooks declares (a misspelling would
            otherwise only be a papermill warning), listing the ones they do.

    """
    declared = {nb: set(papermill.inspect_notebook(str(nb))) for nb in notebooks}
    known = set().union(*declared.values())
    unknown = [key for key in params if key not in known]
    if unknown:
        where = notebooks[0] if len(notebooks) == 1 else NOTEBOOKS
        names = ", ".join(nb.name for nb in notebooks)
        raise ParameterError(
            where,
            f"no parameter {', '.join(map(repr, unknown))} in {names}; "
            f"known: {', '.join(sorted(known))}",
        )
    return {nb: {k: v for k, v in params.items() if k in declared[nb]} for nb in notebooks}


def parse_value(text: str) -> object:
    """A flag value as YAML reads it: numbers, booleans, lists, or the string itself."""
    return yaml.safe_load(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="number prefixes, e.g. 01 02")
    parser.add_argument("--name", default="demo", help="run name: outputs go to runs/<name>/")
    parser.add_argument("--runs", default="runs", help="folder of runs (from the project root)")
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

    run_dir = project_path(Path(args.runs) / args.name)  # where the notebooks resolve it too
    params = yaml.safe_load(args.params.read_text()) if args.params else {}
    params.update({key: parse_value(value) for key, value in args.p})
    params.setdefault("run_dir", str(run_dir))
    try:
        chosen = split_parameters(find_notebooks(args.notebooks), params)
    except RegularityError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    out = run_dir / "notebooks"
    # Executed aside, moved into the run only when it ran through: a refused or failed run
    # (another configuration already there, say) must not replace that run's own copy.
    aside = Path(tempfile.mkdtemp(prefix=f"{args.name}_notebooks_"))
    for notebook, own in chosen.items():
        print(f"== {notebook.name} -> {out / notebook.name}", flush=True)
        try:
            papermill.execute_notebook(
                notebook,
                aside / notebook.name,
                parameters=own,
                cwd=Path.cwd(),
                progress_bar=False,
                log_output=True,
            )
        except papermill.PapermillExecutionError as err:
            # The cell's own error, in one line: the notebook aside keeps the traceback.
            print(f"error: {notebook.name}: {err.ename}: {err.evalue}", file=sys.stderr)
            print(
                f"the executed notebook, with the traceback: {aside / notebook.name}",
                file=sys.stderr,
            )
            return 2
        out.mkdir(parents=True, exist_ok=True)
        shutil.move(aside / notebook.name, out / notebook.name)
    shutil.rmtree(aside, ignore_errors=True)
    metrics = run_dir / "metrics.json"
    if metrics.is_file():
        figures = json.loads(metrics.read_text())
        for name in ("frame_auc", "eer", "tpr", "fpr"):
            if name in figures:
                print(f"{name}: {figures[name]}")
        for score, second in (figures.get("second_scores") or {}).items():
            print(f"second score {score}: {second}")
        if "baseline" in figures:
            print(f"frame difference: {figures['baseline']}")
    print(f"results in {run_dir}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())

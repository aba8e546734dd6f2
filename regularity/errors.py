"""The errors the suite raises on bad input: one base class, each naming the file at fault."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path


class RegularityError(Exception):
    """Base class of every error the suite raises about its input."""


class DataError(RegularityError, ValueError):
    """A file or folder of a dataset is missing, unreadable or inconsistent.

    Args:
        path: the file or folder at fault.
        problem: what is wrong with it, in words.

    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class MissingDataError(DataError, FileNotFoundError):
    """A clip folder, frame or ground-truth file is absent or empty."""


class CorruptFileError(DataError):
    """An image or video cannot be decoded, or is truncated."""


class FrameSizeError(DataError):
    """The frames of one clip do not all have the same size."""


class GroundTruthError(DataError):
    """Ground truth does not match its clip (wrong length, unparsable)."""


class WriteError(DataError):
    """A folder or file cannot be written (read-only, a file in the way, disk full)."""


class ParameterError(DataError):
    """A parameter (a notebook's, a ``--set`` field, a family or recipe name) that is wrong."""


class UnknownDatasetError(RegularityError, KeyError):
    """A dataset name that the registry does not know."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable.
        return str(self.args[0])


class DownloadError(DataError):
    """A download failed; a partial file may be kept so that the next call resumes."""


class HashMismatchError(DownloadError):
    """A downloaded archive does not have its published SHA-256."""


class UnsafeArchiveError(DataError):
    """An archive member would be written outside the extraction folder."""


def exit_status(action: Callable[[], object], status: int = 2) -> int:
    """Run a command line's work: bad input becomes one line on stderr and ``status``.

    A user who named a wrong file wants its name and the problem, not a traceback.

    >>> def broken():
    ...     raise DataError("clip.avi", "truncated")
    >>> exit_status(broken, status=3)
    3
    """
    try:
        action()
    except RegularityError as error:
        print(f"error: {error}", file=sys.stderr)
        return status
    return 0

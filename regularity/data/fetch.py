"""Fetching the public archives: one spec per archive, an idempotent, resumable, checked fetch.

``fetch("ped2", "data/")`` downloads the archive into ``data/archives/`` (resuming a partial
``.part`` file), checks its SHA-256 with pooch, and extracts it into ``data/``, refusing members
that would land outside. A second call finds the extracted folder and does nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

import pooch
import requests
from tqdm.auto import tqdm

from regularity.data.base import Dataset
from regularity.data.registry import load_dataset
from regularity.errors import (
    DownloadError,
    HashMismatchError,
    MissingDataError,
    UnknownDatasetError,
    UnsafeArchiveError,
    WriteError,
)


@dataclass(frozen=True)
class ArchiveSpec:
    """One downloadable archive.

    Attributes:
        filename: name of the archive on disk.
        url: where it is published.
        sha256: published SHA-256, or None where nobody publishes one (the first verified
            download's hash is then recorded beside the archive and checked from then on).
        extracts_to: the folder (relative to ``into``) that exists once it is extracted.
        into: folder (relative to the data root) to extract into.

    """

    filename: str
    url: str
    sha256: str | None
    extracts_to: str
    into: str = "."


UCSD = ArchiveSpec(
    "UCSD_Anomaly_Dataset.tar.gz",
    "http://www.svcl.ucsd.edu/projects/anomaly/UCSD_Anomaly_Dataset.tar.gz",
    "2329af326951f5097fdd114c50e853957d3e569493a49d22fc082a9fd791915b",
    "UCSD_Anomaly_Dataset.v1p2",
)
AVENUE_VIDEOS = ArchiveSpec(
    "Avenue_Dataset.zip",
    "http://www.cse.cuhk.edu.hk/leojia/projects/detectabnormal/Avenue_Dataset.zip",
    "fc9cb8432a11ca79c18aa180c72524011411b69d3b0ff27c8816e41c0de61531",
    "Avenue Dataset",
)
AVENUE_GT = ArchiveSpec(
    "ground_truth_demo.zip",
    "http://www.cse.cuhk.edu.hk/leojia/projects/detectabnormal/ground_truth_demo.zip",
    "60fec1728ec8f73a58aad3aeb5729d70a805a47e0b8eb4bf91ab67ef06386d77",
    "ground_truth_demo",
    into="Avenue Dataset",
)
UCF101_VIDEOS = ArchiveSpec(
    "UCF101.rar", "https://www.crcv.ucf.edu/data/UCF101/UCF101.rar", None, "UCF-101"
)
UCF101_SPLITS = ArchiveSpec(
    "UCF101TrainTestSplits-RecognitionTask.zip",
    "https://www.crcv.ucf.edu/data/UCF101/UCF101TrainTestSplits-RecognitionTask.zip",
    None,
    "ucfTrainTestlist",
    into="UCF-101",
)

SOURCES: dict[str, tuple[ArchiveSpec, ...]] = {
    "ucsd": (UCSD,),
    "ped1": (UCSD,),
    "ped2": (UCSD,),
    "avenue": (AVENUE_VIDEOS, AVENUE_GT),
    "ucf101": (UCF101_VIDEOS, UCF101_SPLITS),
}


class ResumableDownloader:
    """A pooch downloader that keeps a ``.part`` file and continues it with an HTTP Range.

    pooch hands it a temporary file; the finished ``.part`` is moved there, so that pooch's
    hash check decides whether it becomes the archive or is deleted.
    """

    def __init__(self, partial: Path, progress: bool = True, timeout: float = 60.0) -> None:
        self.partial = partial
        self.progress = progress
        self.timeout = timeout

    def __call__(self, url: str, output_file: str, pooch_instance: object) -> None:
        """Download (or finish downloading) ``url`` into ``output_file``."""
        done = self.partial.stat().st_size if self.partial.exists() else 0
        headers = {"Range": f"bytes={done}-"} if done else {}
        with requests.get(url, headers=headers, stream=True, timeout=self.timeout) as response:
            if done and response.status_code == 416:  # the .part is already complete
                os.replace(self.partial, output_file)
                return
            response.raise_for_status()
            if done and response.status_code != 206:  # server ignores ranges: start over
                done = 0
            expected = int(response.headers.get("Content-Length", 0)) + done
            with (
                open(self.partial, "ab" if done else "wb") as out,
                tqdm(
                    total=expected or None,
                    initial=done,
                    unit="B",
                    unit_scale=True,
                    desc=self.partial.name.removesuffix(".part"),
                    disable=not self.progress,
                ) as bar,
            ):
                for chunk in response.iter_content(chunk_size=1 << 16):
                    out.write(chunk)
                    bar.update(len(chunk))
        size = self.partial.stat().st_size
        if expected and size < expected:
            raise requests.exceptions.ChunkedEncodingError(f"got {size} of {expected} bytes")
        os.replace(self.partial, output_file)


def _check_members(archive: Path, names: list[str], links: list[str], target: Path) -> None:
    for name in names + links:
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
            raise UnsafeArchiveError(
                archive, f"member '{name}' would be written outside {target}; nothing extracted"
            )


def extract(archive: str | Path, target: str | Path) -> None:
    """Extract a .tar(.gz), .zip or .rar archive into ``target``, refusing unsafe members.

    Raises:
        UnsafeArchiveError: a member is absolute, climbs out with ``..`` or links outside
            (checked for all members before anything is written).

    """
    archive, target = Path(archive), Path(target)
    target.mkdir(parents=True, exist_ok=True)
    name = archive.name.lower()
    if name.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")):
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            links = [m.linkname for m in members if m.issym() or m.islnk()]
            _check_members(archive, [m.name for m in members], links, target)
            tar.extractall(target, filter="data")
    elif name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zipped:
            _check_members(archive, zipped.namelist(), [], target)
            zipped.extractall(target)
    elif name.endswith(".rar"):
        tool = shutil.which("bsdtar")
        if tool is None:
            raise MissingDataError(
                archive, "extracting .rar needs bsdtar (Debian: apt-get install libarchive-tools)"
            )
        listing = subprocess.run([tool, "-tf", archive], check=True, capture_output=True, text=True)
        _check_members(archive, listing.stdout.splitlines(), [], target)
        subprocess.run([tool, "-xf", archive, "-C", target], check=True)
    else:
        raise DownloadError(archive, "unknown archive type (expected .tar.gz, .zip or .rar)")


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise WriteError(
            folder, f"cannot create this folder ({err.strerror}); choose a folder you can write to"
        ) from err


def fetch_archive(spec: ArchiveSpec, dest: str | Path, progress: bool = True) -> Path:
    """Download, check and extract one archive unless its folder is already there.

    Returns:
        The extracted folder.

    Raises:
        DownloadError: the transfer failed (the ``.part`` file is kept: call again to resume).
        HashMismatchError: the archive does not have its SHA-256 (nothing is kept).
        WriteError: ``dest`` cannot be written (read-only, or a file in the way).

    """
    dest = Path(dest)
    folder = dest / spec.into / spec.extracts_to
    marker = folder / f".extracted-{spec.filename}"
    if marker.is_file():
        return folder
    archives = dest / "archives"
    _make_folder(archives)
    partial = archives / f"{spec.filename}.part"
    recorded = archives / f"{spec.filename}.sha256"
    known = spec.sha256 or (recorded.read_text().strip() if recorded.is_file() else None)
    try:
        path = Path(
            pooch.retrieve(
                spec.url,
                known_hash=f"sha256:{known}" if known else None,
                fname=spec.filename,
                path=archives,
                downloader=ResumableDownloader(partial, progress),
            )
        )
    except requests.exceptions.RequestException as err:
        done = partial.stat().st_size if partial.exists() else 0
        raise DownloadError(
            partial,
            f"download of {spec.url} failed after {done} bytes ({err}); run again to resume",
        ) from err
    except ValueError as err:  # pooch's hash mismatch; it has already deleted the download
        partial.unlink(missing_ok=True)
        raise HashMismatchError(archives / spec.filename, str(err)) from err
    if known is None:
        recorded.write_text(pooch.file_hash(str(path)) + "\n")
    _make_folder(dest / spec.into)
    try:
        extract(path, dest / spec.into)
    except PermissionError as err:
        raise WriteError(dest / spec.into, f"cannot extract {path.name} here ({err})") from err
    if not folder.is_dir():
        raise DownloadError(path, f"extracted, but '{spec.extracts_to}' is not in it")
    marker.touch()
    return folder


def fetch(
    name: str, dest: str | Path = "data", mirror: str | None = None, progress: bool = True
) -> list[Path]:
    """Fetch every archive of a dataset into ``dest``.

    Args:
        name: "ucsd" (= "ped1" = "ped2"), "avenue" or "ucf101".
        dest: data root.
        mirror: a base URL that replaces each archive's folder (a local or institutional copy).
        progress: show progress bars.

    Returns:
        The extracted folders.

    """
    if name.lower() not in SOURCES:
        raise UnknownDatasetError(
            f"no archives known for '{name}'; known: {', '.join(sorted(SOURCES))}"
        )
    specs = SOURCES[name.lower()]
    if mirror:
        specs = tuple(replace(s, url=f"{mirror.rstrip('/')}/{s.filename}") for s in specs)
    return [fetch_archive(spec, dest, progress) for spec in specs]


def open_dataset(
    name: str, root: str | Path = "data", download: bool = False, progress: bool = True
) -> Dataset:
    """Open a dataset, first fetching its public archives into ``root`` when ``download``.

    The synthetic walkway has no archive: it is generated on first use either way. Fetching
    is idempotent (an extracted dataset is not fetched again).

    Raises:
        UnknownDatasetError: ``download`` for a dataset without public archives.

    """
    if download and name.lower() != "synthetic":
        fetch(name, root, progress=progress)
    return load_dataset(name, root=root)

"""The real fetch code path against archives served on 127.0.0.1."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from regularity.data.fetch import ArchiveSpec, fetch, fetch_archive, open_dataset
from regularity.errors import (
    DownloadError,
    HashMismatchError,
    UnknownDatasetError,
    UnsafeArchiveError,
)

ROOT = Path(__file__).resolve().parents[1]


class RangeHandler(SimpleHTTPRequestHandler):
    """Serves files with Range support; ``cut`` files stop halfway on their first request."""

    cut: set[str] = set()
    ranges: list[str] = []

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        start = 0
        header = self.headers.get("Range")
        if header:
            RangeHandler.ranges.append(header)
            start = int(header.split("=")[1].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        body = data[start:]
        if path.name in RangeHandler.cut:
            RangeHandler.cut.discard(path.name)
            body = body[: len(body) // 2]  # then close: an interrupted transfer
            self.close_connection = True
        self.wfile.write(body)


@pytest.fixture()
def server(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(RangeHandler, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    RangeHandler.ranges.clear()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def make_tar(path: Path, members: dict[str, bytes]) -> str:
    with tarfile.open(path, "w:gz") as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return hashlib.sha256(path.read_bytes()).hexdigest()


# Large enough that half a transfer is many chunks: random bytes do not compress.
PAYLOAD = {
    "set/Train/a.txt": b"hello",
    "set/big.bin": np.random.default_rng(0).bytes(1_000_000),
}


def spec(url: str, sha: str | None, name: str = "set.tar.gz") -> ArchiveSpec:
    return ArchiveSpec(name, f"{url}/{name}", sha, "set")


def test_fetch_checks_extracts_and_skips_the_second_time(server, tmp_path):
    served, url = server
    sha = make_tar(served / "set.tar.gz", PAYLOAD)
    dest = tmp_path / "data"
    folder = fetch_archive(spec(url, sha), dest, progress=False)
    assert (folder / "Train" / "a.txt").read_bytes() == b"hello"
    (served / "set.tar.gz").unlink()  # a second call must not need the server
    assert fetch_archive(spec(url, sha), dest, progress=False) == folder


def test_hash_mismatch_is_an_error_and_keeps_nothing(server, tmp_path):
    served, url = server
    make_tar(served / "set.tar.gz", PAYLOAD)
    dest = tmp_path / "data"
    with pytest.raises(HashMismatchError, match=r"set\.tar\.gz"):
        fetch_archive(spec(url, "0" * 64), dest, progress=False)
    assert list((dest / "archives").iterdir()) == []
    assert not (dest / "set").exists()


def test_interrupted_transfer_resumes(server, tmp_path):
    served, url = server
    sha = make_tar(served / "set.tar.gz", PAYLOAD)
    size = (served / "set.tar.gz").stat().st_size
    RangeHandler.cut.add("set.tar.gz")
    dest = tmp_path / "data"
    with pytest.raises(DownloadError, match="run again to resume"):
        fetch_archive(spec(url, sha), dest, progress=False)
    partial = dest / "archives" / "set.tar.gz.part"
    kept = partial.stat().st_size
    assert 0 < kept < size and not (dest / "archives" / "set.tar.gz").exists()
    folder = fetch_archive(spec(url, sha), dest, progress=False)
    assert RangeHandler.ranges == [f"bytes={kept}-"]
    assert (folder / "big.bin").read_bytes() == PAYLOAD["set/big.bin"]
    assert not partial.exists()


def test_archive_escaping_the_target_is_refused(server, tmp_path):
    served, url = server
    sha = make_tar(served / "set.tar.gz", {"set/ok.txt": b"x", "../evil.txt": b"boom"})
    dest = tmp_path / "data"
    with pytest.raises(UnsafeArchiveError, match=r"'\.\./evil\.txt'"):
        fetch_archive(spec(url, sha), dest, progress=False)
    assert not (tmp_path / "evil.txt").exists() and not (dest / "set").exists()


def test_unpublished_hash_is_recorded_then_enforced(server, tmp_path):
    served, url = server
    sha = make_tar(served / "set.tar.gz", PAYLOAD)
    dest = tmp_path / "data"
    fetch_archive(spec(url, None), dest, progress=False)
    archives = dest / "archives"
    assert (archives / "set.tar.gz.sha256").read_text().strip() == sha
    # Enforced: a changed archive at the same address is refused on the next fetch.
    make_tar(served / "set.tar.gz", {**PAYLOAD, "set/Train/a.txt": b"changed"})
    # The data were cleared but the record kept: the archive is downloaded again.
    (archives / "set.tar.gz").unlink()
    shutil.rmtree(dest / "set")
    with pytest.raises(HashMismatchError, match=r"set\.tar\.gz"):
        fetch_archive(spec(url, None), dest, progress=False)
    assert sorted(p.name for p in archives.iterdir()) == ["set.tar.gz.sha256"]  # no half file
    assert (archives / "set.tar.gz.sha256").read_text().strip() == sha  # the record is kept
    assert not (dest / "set").exists()  # nothing extracted


def test_fetch_by_name_through_a_mirror(server, tmp_path):
    served, url = server
    make_tar(served / "UCSD_Anomaly_Dataset.tar.gz", {"UCSD_Anomaly_Dataset.v1p2/x": b"1"})
    # Not the published archive, so the published hash must reject it.
    with pytest.raises(HashMismatchError, match="UCSD_Anomaly_Dataset"):
        fetch("ped2", tmp_path / "data", mirror=url, progress=False)


def fetch_cli(dest: Path, env: dict) -> subprocess.CompletedProcess:
    # A mirror on a closed local port: nothing may leave the machine if the folder check passes.
    command = [sys.executable, "-m", "regularity", "fetch", "ped2", "--dest", str(dest)]
    command += ["--mirror", "http://127.0.0.1:9"]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)


def assert_one_line_error(done: subprocess.CompletedProcess, folder: Path) -> None:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(folder) in lines[0], lines


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_fetch_into_a_read_only_folder_is_a_one_line_error(tmp_path, project_env):
    dest = tmp_path / "readonly"
    dest.mkdir()
    dest.chmod(0o500)
    try:
        done = fetch_cli(dest, project_env)
    finally:
        dest.chmod(0o700)
    assert_one_line_error(done, dest)


def test_fetch_under_a_file_is_a_one_line_error(tmp_path, project_env):
    (tmp_path / "file").write_text("not a folder")
    dest = tmp_path / "file" / "sub"  # cannot be created, not even by root
    assert_one_line_error(fetch_cli(dest, project_env), dest)


def test_open_dataset_fetches_only_what_has_archives(tiny_root, tmp_path):
    assert open_dataset("synthetic", tiny_root, download=True).test[0].labels is not None
    with pytest.raises(UnknownDatasetError, match="no archives known for 'videos'"):
        open_dataset("videos", tmp_path, download=True)

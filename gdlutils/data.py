"""Data sets used by the book: resolved locally, downloaded for online readers, checked.

Every file the book reads is listed in :data:`REGISTRY` with the address it comes from and
its SHA-256 checksum. :func:`data_home` decides where files live:

1. the folder named by the environment variable ``GDL_DATA``, if it is set;
2. otherwise a per-user cache folder (``$XDG_CACHE_HOME/gdlutils``, ``~/.cache/gdlutils``,
   ``~/Library/Caches/gdlutils`` on macOS, ``%LOCALAPPDATA%\\gdlutils`` on Windows).

:func:`fetch` returns the path of a registered file, downloading it (with a progress bar and a
checksum check) when it is missing. Set ``GDL_OFFLINE=1`` to forbid downloads: a missing file
then raises :class:`DataNotFoundError`, whose message names the file, where it was looked for
and where to get it.

Introduced in: Welcome, :doc:`/book/welcome` (how to use this book); used from chapter 4 on.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DataFile",
    "DataNotFoundError",
    "ChecksumError",
    "REGISTRY",
    "data_home",
    "cache_home",
    "fetch",
    "sha256sum",
    "load_planetoid",
]


class DataNotFoundError(FileNotFoundError):
    """A registered data file is missing and could not be downloaded.

    Introduced in: Welcome, :doc:`/book/welcome`.
    """


class ChecksumError(OSError):
    """A data file's SHA-256 checksum differs from the registered one.

    Introduced in: Welcome, :doc:`/book/welcome`.
    """


@dataclass(frozen=True)
class DataFile:
    """One registered file: its path below :func:`data_home`, origin and checksum.

    Introduced in: Welcome, :doc:`/book/welcome`.
    """

    path: str
    url: str
    sha256: str
    credit: str = ""


_PLANETOID_URL = "https://github.com/kimiyoung/planetoid/raw/master/data/"
_PLANETOID_CREDIT = (
    "Planetoid splits (Yang, Cohen & Salakhutdinov, ICML 2016), github.com/kimiyoung/planetoid, MIT"
)
_PLANETOID_SUMS = {
    "citeseer": {
        "allx": "2ac30345d95c9ec933a817ee0bdd6a5f077f8c184a20e696910192d534414668",
        "ally": "f704b2d986dde6c2669934de1f3ae5696a6cf9455c0f6b2646a2d135ea0a1c95",
        "graph": "d79a4ef9d3e7169aee8946145f6b7306e35bc79bffad26346cfb94e10e9912a7",
        "test.index": "2af990671580b6b2df5d158d1038f8292e30c9cd821b5453f399659b25b723d4",
        "tx": "539a8906a2da97628d212f2fdd668c109a8b3f0d36574b59e5d3fd5b5303da21",
        "ty": "55e5bd1ba1e733a04598753ad1a8d57957f4b8f89e74519f41f4f4938767e4ce",
        "x": "d20de19150741e555de0ed037195630fc194114ebc7fd72ced62810148aa22f6",
        "y": "8ba87e515d8e3ee3cf52f6d2c5b86aa73f11ecad825a808455209ec26cd54924",
    },
    "cora": {
        "allx": "9419ba2f26f5c35243db64aba110e0f35a04851609e0dc5433450676ca6b8543",
        "ally": "2b998f5cc7fedc86e7f97ca2498f47a1ffc1462c29e2d578b23bf3f62b6e7d71",
        "graph": "58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d",
        "test.index": "297ce89af2b51a6a194181c7dbe1796c6a1cf9cd9349a88383b1b1e227867875",
        "tx": "b9afbaa4a400df991f6f02ef677e1e44da55ffc04801fd02f9e673987829226a",
        "ty": "41f5ac76596a1699cc33f53084a2419e92961c42bb75f36fc38e616d348532ad",
        "x": "23cfa55d91c6f624233f5eb7b6e3f141f1bd2b2ae39608a63cf5d084bb27baab",
        "y": "94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1",
    },
}
#: Folder names PyTorch Geometric uses for the Planetoid graphs.
PLANETOID_NAMES = {"cora": "Cora", "citeseer": "CiteSeer"}

_COMMON3D = "https://github.com/alecjacobson/common-3d-test-models/raw/8a4f864/data/"
_ODEDSTEIN = "https://github.com/odedstein/meshes/raw/8352132/objects/"
_STANFORD = "The Stanford 3D Scanning Repository, Stanford Computer Graphics Laboratory"

#: Every data file the book reads, keyed by its path below :func:`data_home`.
REGISTRY: dict[str, DataFile] = {}
for _name, _sums in _PLANETOID_SUMS.items():
    for _suffix, _sum in _sums.items():
        _file = f"ind.{_name}.{_suffix}"
        _path = f"Planetoid/{PLANETOID_NAMES[_name]}/raw/{_file}"
        REGISTRY[_path] = DataFile(_path, _PLANETOID_URL + _file, _sum, _PLANETOID_CREDIT)
for _df in [
    DataFile(
        "meshes/spot.obj",
        _COMMON3D + "spot.obj",
        "0738b5e8608fed74e5e8c7aa8dd0af97b4b74f9f6cbf7aac84cd7e40b2e44a75",
        "Spot: Keenan Crane (public domain)",
    ),
    DataFile(
        "meshes/stanford-bunny.obj",
        _COMMON3D + "stanford-bunny.obj",
        "1eb35d1e21ce99e5ce911353b6be278990713448dd9e8f5c9387f9de39b32205",
        f"Stanford bunny: {_STANFORD}",
    ),
    DataFile(
        "meshes/cow.obj",
        _COMMON3D + "cow.obj",
        "69afce548640bc2beb0c44894d1a24d5766cc9cd3fd74f3ec55b4e229104b23f",
        "Cow: Viewpoint Animation Engineering / Sun Microsystems (terms unknown; tests only)",
    ),
    DataFile(
        "meshes/bunny-manifold.obj",
        _ODEDSTEIN + "bunny/bunny.obj",
        "d97f4aa37c2f3bfb14eceb3d06ac1f466062dc45f08e019bfbae9704c28654b6",
        f"Stanford bunny, manifold remesh from odedstein/meshes: {_STANFORD}",
    ),
    DataFile(
        "meshes/torus.obj",
        _ODEDSTEIN + "torus/torus.obj",
        "f7ae0f03f26c952d208658ba70923687f67ddc7351adf15f91da7aa61dbcd119",
        "Torus: Oded Stein, odedstein/meshes, CC BY 4.0",
    ),
    DataFile(
        "molecules/delaney-processed.csv",
        "https://github.com/ajia90/smilestransformer/raw/HEAD/delaney-processed.csv",
        "e91dc7027cbaeec3872a45b2522c46676e483c123b1c97172839d858a2f26d9c",
        "ESOL aqueous solubility: Delaney, J. Chem. Inf. Comput. Sci. 44 (2004) 1000-1005, "
        "processed by MoleculeNet (Wu et al., Chem. Sci. 2018)",
    ),
    DataFile(
        "temporal/chickenpox.json",
        "https://github.com/benedekrozemberczki/pytorch_geometric_temporal/raw/HEAD/dataset/chickenpox.json",
        "724b48cfb274b2ecbb855bdb99b970b5ef9dd3671694fa477435dc1e08293735",
        "Chickenpox cases in Hungary: Rozemberczki et al. 2021, "
        "benedekrozemberczki/pytorch_geometric_temporal, MIT",
    ),
]:
    REGISTRY[_df.path] = _df


def _user_cache_dir() -> Path:
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "gdlutils"


def data_home() -> Path:
    """The folder data files are read from: ``$GDL_DATA`` or the user cache folder.

    Introduced in: Welcome, :doc:`/book/welcome`.
    """
    env = os.environ.get("GDL_DATA")
    return Path(env).expanduser().resolve() if env else _user_cache_dir()


def cache_home() -> Path:
    """A writable folder for derived files (processed data sets, downloads when
    :func:`data_home` is read-only). ``$GDL_CACHE`` overrides the user cache folder.

    Introduced in: Welcome, :doc:`/book/welcome`.
    """
    env = os.environ.get("GDL_CACHE")
    return Path(env).expanduser().resolve() if env else _user_cache_dir()


def sha256sum(path: str | os.PathLike) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB blocks.

    Introduced in: Welcome, :doc:`/book/welcome`.
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _offline() -> bool:
    return os.environ.get("GDL_OFFLINE", "").lower() not in ("", "0", "false", "no")


def _download(url: str, target: Path, expected_sha256: str, progress: bool = True) -> None:
    """Download ``url`` to ``target`` through a temporary file, checking its checksum."""
    from tqdm.auto import tqdm

    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".part-", suffix=target.suffix)
    tmp = Path(tmp_name)
    h = hashlib.sha256()
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "gdlutils"})
        with urllib.request.urlopen(request, timeout=60) as response, os.fdopen(fd, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(
                total=total, unit="B", unit_scale=True, desc=target.name, disable=not progress
            ) as bar:
                for block in iter(lambda: response.read(1 << 16), b""):
                    out.write(block)
                    h.update(block)
                    bar.update(len(block))
        if h.hexdigest() != expected_sha256:
            raise ChecksumError(
                f"downloaded {url} but its SHA-256 is {h.hexdigest()}, expected {expected_sha256}; "
                "the file was not saved (the source may have changed: please report it)"
            )
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)


def fetch(path: str, *, download: bool | None = None, verify: bool = True, progress: bool = True) -> Path:
    """Return the local path of the registered data file ``path``.

    The file is looked for in :func:`data_home`, then in :func:`cache_home`. When it is in
    neither, it is downloaded from its registered address into :func:`data_home` (or, if that
    folder is not writable, into :func:`cache_home`) with a progress bar, and its SHA-256 is
    checked before it is saved.

    Args:
        path: key of :data:`REGISTRY`, e.g. ``"meshes/spot.obj"``.
        download: allow a download; default: yes unless ``GDL_OFFLINE`` is set.
        verify: check the checksum of a file found on disk too.
        progress: show a progress bar while downloading.

    Raises:
        KeyError: ``path`` is not registered (the message lists what is).
        DataNotFoundError: the file is missing and could not be downloaded.
        ChecksumError: a file on disk or a download has the wrong checksum.
        TypeError: ``path`` is not a string.

    Introduced in: Welcome, :doc:`/book/welcome`.
    """
    if not isinstance(path, str):
        raise TypeError(f"fetch: path must be a registry key (a string such as 'meshes/spot.obj'), got {type(path).__name__}")
    if path not in REGISTRY:
        known = "\n  ".join(sorted(REGISTRY))
        raise KeyError(f"{path!r} is not a registered data file; registered files:\n  {known}")
    entry = REGISTRY[path]
    candidates = [data_home() / path, cache_home() / path]
    for candidate in candidates:
        if candidate.is_file():
            if verify and sha256sum(candidate) != entry.sha256:
                raise ChecksumError(
                    f"{candidate} has SHA-256 {sha256sum(candidate)}, expected {entry.sha256}. "
                    f"Delete it to download it again from {entry.url}."
                )
            return candidate
    if download is None:
        download = not _offline()
    where = (
        f"GDL_DATA={os.environ['GDL_DATA']}" if os.environ.get("GDL_DATA") else "the user cache folder"
    )
    searched = f"{data_home()} ({where})"
    if cache_home() != data_home():
        searched += f" nor in {cache_home()}"
    help_text = (
        f"data file {path!r} was not found in {searched}.\n"
        f"Download it from\n  {entry.url}\nand save it as\n  {data_home() / path}\n"
        "or set the environment variable GDL_DATA to a folder that holds it."
    )
    if not download:
        raise DataNotFoundError(help_text + "\n(Downloads are off: GDL_OFFLINE is set.)")
    target = candidates[0]
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        writable = os.access(target.parent, os.W_OK)
    except OSError:
        writable = False
    if not writable:
        target = candidates[1]
    try:
        _download(entry.url, target, entry.sha256, progress=progress)
    except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
        # Raised without the chain: in a notebook the socket traceback would bury the help text.
        # The cause stays in the message as one line.
        cause = err.reason if isinstance(err, urllib.error.URLError) else err
        cause_text = " ".join(f"{type(cause).__name__}: {cause}".split())
        raise DataNotFoundError(f"{help_text}\n(The download failed: {cause_text}.)") from None
    return target


def load_planetoid(name: str):
    """Load a Planetoid citation graph (``"Cora"`` or ``"CiteSeer"``) with its public split.

    Reads the original raw files (fetched through :func:`fetch`, so offline with ``GDL_DATA``)
    with PyTorch Geometric's own reader; nothing is written next to them.

    Returns:
        torch_geometric.data.Data: ``x`` (N × F, float), ``edge_index`` (2 × E),
        ``y`` (N,), boolean ``train_mask``, ``val_mask``, ``test_mask``.

    Introduced in: 4.1, :doc:`/book/04_domains/04_1_graphs_and_sets` and 5.3 (node classification).
    """
    from torch_geometric.io import read_planetoid_data

    if not isinstance(name, str):
        raise TypeError(f"load_planetoid: name must be 'Cora' or 'CiteSeer', got {name!r}")
    key = name.lower()
    if key not in PLANETOID_NAMES:
        raise ValueError(f"unknown Planetoid graph {name!r}; expected one of {sorted(PLANETOID_NAMES.values())}")
    files = [fetch(f"Planetoid/{PLANETOID_NAMES[key]}/raw/ind.{key}.{suffix}") for suffix in _PLANETOID_SUMS[key]]
    folders = {f.parent for f in files}
    if len(folders) == 1:
        data = read_planetoid_data(str(files[0].parent), key)
    else:  # some files in GDL_DATA, some in the cache: read them from one folder
        with tempfile.TemporaryDirectory() as tmp:
            for f in files:
                shutil.copy(f, tmp)
            data = read_planetoid_data(tmp, key)
    data.name = PLANETOID_NAMES[key]
    return data


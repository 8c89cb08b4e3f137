import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def shared_data():
    """The offline data folder (GDL_DATA); tests that read real data sets skip without it."""
    from pathlib import Path

    path = os.environ.get("GDL_DATA")
    if not path or not Path(path).is_dir():
        pytest.skip("GDL_DATA is not set to a data folder (CI sets it to ../shared/data)")
    return Path(path)


def pytest_addoption(parser):
    parser.addoption(
        "--site",
        default=None,
        help="crawl this already built site (e.g. _build/html after `make book`, with outputs) "
        "in the browser tests, instead of building the book with execution off",
    )


@pytest.fixture(scope="session")
def book_build():
    """The book built as the test suite builds it (`-W -n --keep-going`, execution off), once
    per test run and shared by the xdist workers (the first one builds, the others wait).

    Returns a dict: ``html`` (the site's folder), ``returncode``, ``log``.
    """
    import json
    import shutil
    import sys
    import uuid
    from pathlib import Path

    from filelock import FileLock

    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root / "tools"))
    import build_book

    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"solo-{uuid.uuid4().hex[:8]}"
    base = root / "_build" / "test-site"
    base.mkdir(parents=True, exist_ok=True)
    out = base / run
    with FileLock(str(base / ".lock")):
        done = out / "result.json"
        if not done.exists():
            for old in base.iterdir():
                if old.is_dir() and old != out:
                    shutil.rmtree(old, ignore_errors=True)
            config = build_book.book_config(root, execute="off")
            result = build_book.build(root, out, config=config)
            done.parent.mkdir(parents=True, exist_ok=True)
            done.write_text(json.dumps({"returncode": result.returncode, "log": result.stdout + result.stderr}))
        info = json.loads(done.read_text())
    return {"html": out / "_build" / "html", **info}


@pytest.fixture(autouse=True)
def _same_random_state():
    """Every test starts from the same torch and NumPy random state, so its random inputs are the
    same on every run: a test either passes or fails, never now and then."""
    import numpy as np
    import torch

    torch.manual_seed(0)
    np.random.seed(0)

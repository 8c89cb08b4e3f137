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

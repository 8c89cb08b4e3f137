"""Small helpers shared by the notebooks: seeding and device choice.

Introduced in: Welcome (how to use this book).
"""
from __future__ import annotations

import os
import random

import numpy as np
import torch

__all__ = ["seed_everything", "get_device"]


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python's, NumPy's and torch's random number generators.

    Returns a ``torch.Generator`` seeded with ``seed`` for code that prefers an explicit one.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    return torch.Generator().manual_seed(seed)


def get_device(prefer: str | None = None) -> torch.device:
    """The device to compute on: ``prefer`` if given, else CUDA when available, else CPU."""
    if prefer is not None:
        return torch.device(prefer)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")

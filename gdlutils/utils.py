"""Small helpers shared by the notebooks and the modules: seeding, device choice, resetting
the parameters of composite layers.

Introduced in: Welcome, :doc:`/book/welcome` (how to use this book).
"""
from __future__ import annotations

import os
import random

import numpy as np
import torch

__all__ = ["seed_everything", "get_device", "reset_submodules"]


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python's, NumPy's and torch's random number generators.

    Returns a ``torch.Generator`` seeded with ``seed`` for code that prefers an explicit one.

    Introduced in: Welcome, :doc:`/book/welcome`.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise TypeError(f"seed_everything: seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    return torch.Generator().manual_seed(seed)


def _check_seed(seed) -> None:
    """The ``seed: int | None`` argument of functions that draw (house rule): refuse anything else."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError(f"seed must be an int or None, got {type(seed).__name__}")


def get_device(prefer: str | None = None) -> torch.device:
    """The device to compute on: ``prefer`` if given, else CUDA when available, else CPU.

    Introduced in: Welcome, :doc:`/book/welcome`.
    """
    if prefer is not None:
        try:
            return torch.device(prefer)
        except (RuntimeError, TypeError) as error:
            raise ValueError(f"get_device: {prefer!r} is not a device name such as 'cpu' or 'cuda:0' ({error})") from None
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def reset_submodules(module: torch.nn.Module) -> None:
    """Call ``reset_parameters()`` on every submodule of ``module`` that has one (not on
    ``module`` itself): the ``reset_parameters`` of a layer assembled from PyTorch layers.

    Introduced in: 5.1, :doc:`/book/05_models/05_1_cnns`.
    """
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"reset_submodules expects a torch.nn.Module, got {type(module).__name__}")
    for m in module.modules():
        if m is not module and hasattr(m, "reset_parameters"):
            m.reset_parameters()

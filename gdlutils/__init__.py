"""gdlutils: the operators and checks of *Geometric Deep Learning*, executable.

One module per topic; each is the single home of its operators:

- :mod:`gdlutils.groups`: groups, actions, ``check_equivariance`` / ``check_invariance``
- :mod:`gdlutils.learning`: chapter 2 (regularity, the curse of dimensionality)
- :mod:`gdlutils.data`: data sets, offline-first with checksums (``GDL_DATA``)
- :mod:`gdlutils.plot`: the figures that recur
- :mod:`gdlutils.utils`: seeding and device choice
- ... and one module for each later topic (see the API reference).

Modules are imported lazily (``gdlutils.groups`` works after ``import gdlutils``) so that
importing the package stays fast.
"""
from __future__ import annotations

import importlib
import pkgutil

__version__ = "0.1.0"

_SUBMODULES = {m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")}
__all__ = sorted(_SUBMODULES)


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'gdlutils' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _SUBMODULES)

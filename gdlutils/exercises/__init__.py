"""Self-checks for the exercises of the book.

Each exercise has an id such as ``"2.1.1"`` (chapter.section.number). A reader writes a
solution and calls::

    from gdlutils.exercises import check
    check("2.1.1", my_function)

which prints a pass message, or on failure a hint saying which property failed on which
input, without giving the answer away; it returns ``True`` or ``False``. The checks of chapter
``k`` live in ``gdlutils.exercises.ch{k}``; each registers itself with :func:`exercise`.

Introduced in: Welcome, :doc:`/book/welcome` (how to use this book).
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["check", "exercise", "ExerciseFailure", "UnknownExerciseError", "list_exercises"]


class ExerciseFailure(AssertionError):
    """Raised inside a checker with a hint for the reader (never the answer).

    Introduced in: Welcome, :doc:`/book/welcome`.
    """


class UnknownExerciseError(ValueError, KeyError):
    """No exercise has the id given (a ``ValueError``, and a ``KeyError`` for older code).

    Introduced in: Welcome, :doc:`/book/welcome`.
    """

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


_ID = re.compile(r"^\d+(\.\d+){1,3}$")


def _check_id(id, what: str) -> str:
    if not isinstance(id, str):
        raise TypeError(
            f"{what}: an exercise id is a string such as \"3.1.1\", got {id!r} of type {type(id).__name__}; "
            f"write check(\"{id}\", ...) with quotes" if isinstance(id, (int, float)) else
            f"{what}: an exercise id is a string such as \"3.1.1\", got {type(id).__name__}"
        )
    if not _ID.match(id):
        raise ValueError(f"{what}: an exercise id looks like \"3.1.1\" (chapter.section.number), got {id!r}")
    return id


@dataclass(frozen=True)
class _Exercise:
    id: str
    title: str
    checker: Callable[[Any], Any]


_REGISTRY: dict[str, _Exercise] = {}


def exercise(id: str, title: str) -> Callable:
    """Decorator that registers ``checker(answer)`` as the self-check of exercise ``id``.

    The checker raises :class:`ExerciseFailure` with a hint when the answer is wrong, and may
    return a short string to print on success.

    Introduced in: Welcome, :doc:`/book/welcome`.
    """
    _check_id(id, "exercise")
    if not isinstance(title, str) or not title:
        raise TypeError(f"exercise: title must be a non-empty string, got {title!r}")

    def register(checker: Callable[[Any], Any]) -> Callable[[Any], Any]:
        if id in _REGISTRY and _REGISTRY[id].checker is not checker:
            raise ValueError(f"exercise {id} is registered twice")
        _REGISTRY[id] = _Exercise(id, title, checker)
        return checker

    return register


def _load_chapter(id: str) -> None:
    """Import the module that holds exercise ``id``'s check.

    Checks of chapter ``k`` live in ``ch{k}.py``; a chapter with many sections may split them
    into one module per section, ``ch{k}_{s}.py`` (exercise ``"5.4.2"`` is looked for in
    ``ch5`` and then in ``ch5_4``).
    """
    parts = id.split(".")
    names = [f"ch{parts[0]}"] + ([f"ch{parts[0]}_{parts[1]}"] if len(parts) > 2 else [])
    for name in names:
        if not all(p.isdigit() for p in name[2:].split("_")):
            return
        try:
            importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{name}":  # a real import error inside the module
                raise
        if id in _REGISTRY:
            return


def list_exercises() -> dict[str, str]:
    """All registered exercises: ``{id: title}`` (loads every chapter's checks).

    Introduced in: Welcome, :doc:`/book/welcome`.
    """
    import pkgutil

    for m in pkgutil.iter_modules(__path__):
        if m.name.startswith("ch"):
            importlib.import_module(f"{__name__}.{m.name}")
    return {k: v.title for k, v in sorted(_REGISTRY.items())}


def check(id: str, answer: Any, *, quiet: bool = False) -> bool:
    """Check a reader's answer to exercise ``id``; print the verdict and return it.

    Exceptions raised by the reader's own code are reported as a failure with their message,
    not re-raised, so one wrong attempt does not stop a notebook. A malformed ``id`` (not a
    string like ``"3.1.1"``) raises ``TypeError``/``ValueError``; an unknown one
    ``UnknownExerciseError`` (a ``ValueError``).

    Introduced in: Welcome, :doc:`/book/welcome`.
    """
    _check_id(id, "check")
    if not isinstance(quiet, bool):
        raise TypeError(f"check: quiet must be True or False, got {quiet!r}")
    if id not in _REGISTRY:
        _load_chapter(id)
    if id not in _REGISTRY:
        raise UnknownExerciseError(f"no exercise {id!r}; known: {', '.join(sorted(list_exercises())) or 'none'}")
    ex = _REGISTRY[id]
    try:
        message = ex.checker(answer)
    except ExerciseFailure as failure:
        if not quiet:
            print(f"✗ Exercise {id} ({ex.title}): not yet.\n  {failure}")
        return False
    except Exception as error:  # the reader's code raised
        if not quiet:
            print(f"✗ Exercise {id} ({ex.title}): your code raised {type(error).__name__}: {error}")
        return False
    if not quiet:
        print(f"✓ Exercise {id} ({ex.title}): passed." + (f" {message}" if message else ""))
    return True

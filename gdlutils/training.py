"""A minimal, seeded, device-agnostic training loop for the book's small experiments.

:func:`fit` minimises the empirical risk

.. math:: \\hat{\\mathcal R}(\\theta) = \\frac1N \\sum_{i=1}^N \\ell\\big(f_\\theta(x_i), y_i\\big)

by mini-batch Adam (or SGD) for a number of epochs; :func:`evaluate` measures a metric (accuracy
by default) on held-out data; :func:`predict` returns the model's outputs. Data may be given as
a tuple of tensors ``(X, y)`` (batched here, with a seeded shuffle: fastest for small data sets),
a ``torch.utils.data.Dataset`` or a ``DataLoader``. Everything runs on ``device`` (default:
:func:`gdlutils.utils.get_device`), so a notebook runs unchanged on a GPU.

Introduced in: 5.1, :doc:`/book/05_models/05_1_cnns`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .utils import get_device, seed_everything

__all__ = ["History", "fit", "evaluate", "predict", "accuracy", "batches", "count_parameters"]



def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) scalar parameters of ``model``, :math:`\\sum_p \\operatorname{numel}(p)`.

    Shapes:
        returns an int.

    Introduced in: 5.1, :doc:`/book/05_models/05_1_cnns`.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def accuracy(logits: torch.Tensor, target: torch.Tensor) -> float:
    """Fraction of rows whose arg-max equals the integer label.

    Shapes:
        logits: ``(N, num_classes)``; target: ``(N,)`` integer labels; output: a float in [0, 1].

    Introduced in: 5.1, :doc:`/book/05_models/05_1_cnns`.
    """
    if not isinstance(logits, torch.Tensor) or not isinstance(target, torch.Tensor):
        raise TypeError(f"accuracy expects tensors, got {type(logits).__name__} and {type(target).__name__}")
    if target.dtype.is_floating_point:
        raise TypeError(f"target must hold integer class labels, got dtype {target.dtype}; use target.long()")
    if logits.dim() != 2 or target.dim() != 1 or logits.shape[0] != target.shape[0]:
        raise ValueError(
            f"accuracy expects logits (N, num_classes) and labels (N,), got {tuple(logits.shape)} and {tuple(target.shape)}"
        )
    return (logits.argmax(dim=1) == target).float().mean().item() if target.numel() else float("nan")


def _check_tensor_pair(data) -> tuple[torch.Tensor, ...]:
    if len(data) < 1 or not all(isinstance(t, torch.Tensor) for t in data):
        raise TypeError("data given as a tuple must hold tensors, e.g. (X, y)")
    n = data[0].shape[0]
    if any(t.shape[0] != n for t in data):
        raise ValueError(f"the tensors of a data tuple must share their first dimension, got {[tuple(t.shape) for t in data]}")
    return tuple(data)


def batches(data: Any, batch_size: int = 64, shuffle: bool = False,
            generator: torch.Generator | None = None) -> Iterable[Sequence[torch.Tensor]]:
    """Iterate over mini-batches of ``data``: tensor tuples are sliced (with a seeded permutation
    when ``shuffle``); a ``DataLoader`` is iterated as is; a ``Dataset`` is wrapped in one.

    Shapes:
        data: tensors ``(N, ...)``; yields tuples of ``(batch_size, ...)``.

    Introduced in: 5.1, :doc:`/book/05_models/05_1_cnns`.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if isinstance(data, (tuple, list)):
        tensors = _check_tensor_pair(data)
        n = tensors[0].shape[0]
        order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            yield tuple(t[idx] for t in tensors)
    elif isinstance(data, torch.utils.data.DataLoader):
        yield from data
    elif isinstance(data, torch.utils.data.Dataset):
        yield from torch.utils.data.DataLoader(data, batch_size=batch_size, shuffle=shuffle, generator=generator)
    else:
        raise TypeError(f"data must be a tuple of tensors (X, y), a Dataset or a DataLoader, got {type(data).__name__}")


def _to(batch, device) -> list:
    return [t.to(device) if isinstance(t, torch.Tensor) else t for t in batch]


@dataclass
class History:
    """What :func:`fit` records, one entry per epoch.

    Attributes:
        loss: mean training loss of the epoch.
        train_metric: metric on the training batches (as seen during the epoch).
        val_metric: metric on ``val_data`` after the epoch (empty without ``val_data``).

    Introduced in: 5.1, :doc:`/book/05_models/05_1_cnns`.
    """

    loss: list[float] = field(default_factory=list)
    train_metric: list[float] = field(default_factory=list)
    val_metric: list[float] = field(default_factory=list)

    def __repr__(self) -> str:
        last = lambda v: f"{v[-1]:.4f}" if v else "-"
        return (f"History({len(self.loss)} epochs: loss {last(self.loss)}, train {last(self.train_metric)}, "
                f"val {last(self.val_metric)})")


def fit(
    model: nn.Module,
    train_data: Any,
    *,
    epochs: int = 10,
    lr: float = 1e-3,
    batch_size: int = 64,
    weight_decay: float = 0.0,
    optimizer: str = "adam",
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = F.cross_entropy,
    metric: Callable[[torch.Tensor, torch.Tensor], float] | None = accuracy,
    val_data: Any | None = None,
    schedule: str | None = None,
    seed: int = 0,
    device: torch.device | str | None = None,
    progress: bool = True,
    desc: str | None = None,
) -> History:
    """Train ``model`` in place by mini-batch gradient descent on ``loss_fn(model(x), y)``.

    Each batch is ``(x, y)`` (the model is called on all but the last tensor, so ``(x, y)``
    and ``(x, edge_index, y)`` both work). Seeds everything with ``seed`` first, so two calls
    with the same arguments give the same model. Shows a ``tqdm`` progress bar over epochs with
    the current loss and metric (``progress=False`` hides it).

    Args:
        model: the network (moved to ``device``).
        train_data: ``(X, y)`` tensors, a ``Dataset`` or a ``DataLoader``.
        epochs, lr, batch_size, weight_decay: the usual.
        optimizer: ``"adam"`` (default), ``"adamw"`` or ``"sgd"`` (momentum 0.9).
        loss_fn: ``loss_fn(output, target)``, cross-entropy by default.
        metric: ``metric(output, target) -> float`` recorded per epoch (``None`` to skip).
        val_data: evaluated with ``metric`` after every epoch if given.
        schedule: ``"cosine"`` for cosine learning-rate decay to 0, or ``None``.
        seed: seed of initial state, shuffling and dropout.
        device: where to train (default :func:`gdlutils.utils.get_device`).
        progress: show the progress bar.
        desc: label of the progress bar.

    Returns:
        History: per-epoch loss and metrics.

    Shapes:
        train_data: tensors ``(N, ...)`` sharing their first dimension (or a Dataset / DataLoader).

    Introduced in: 5.1, :doc:`/book/05_models/05_1_cnns`.
    """
    if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not (0 < lr < float("inf")):
        raise ValueError(f"lr must be a positive finite number, got {lr!r}")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    generator = seed_everything(seed)
    device = get_device() if device is None else torch.device(device)
    model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the model has no trainable parameters")
    if optimizer == "adam":
        opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    elif optimizer == "adamw":
        opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    elif optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    else:
        raise ValueError(f"optimizer must be 'adam', 'adamw' or 'sgd', got {optimizer!r}")
    sched = None
    if schedule == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    elif schedule is not None:
        raise ValueError(f"schedule must be 'cosine' or None, got {schedule!r}")

    from tqdm.auto import tqdm

    history = History()
    bar = tqdm(range(epochs), desc=desc or type(model).__name__, disable=not progress, leave=False)
    for _ in bar:
        model.train()
        total, count, correct = 0.0, 0, 0.0
        for batch in batches(train_data, batch_size, shuffle=True, generator=generator):
            *inputs, target = _to(batch, device)
            out = model(*inputs)
            loss = loss_fn(out, target)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            n = target.shape[0]
            total += loss.item() * n
            count += n
            if metric is not None:
                with torch.no_grad():
                    correct += metric(out.detach(), target) * n
        if sched is not None:
            sched.step()
        history.loss.append(total / max(count, 1))
        if metric is not None:
            history.train_metric.append(correct / max(count, 1))
        if val_data is not None and metric is not None:
            history.val_metric.append(evaluate(model, val_data, metric=metric, batch_size=max(batch_size, 256), device=device))
        post = {"loss": f"{history.loss[-1]:.3f}"}
        if history.val_metric:
            post["val"] = f"{history.val_metric[-1]:.3f}"
        bar.set_postfix(post)
    bar.close()
    model.eval()
    return history


def _prepare(model, device) -> None:
    if isinstance(model, nn.Module):
        model.to(device).eval()
    elif not callable(model):
        raise TypeError(f"model must be an nn.Module or a callable, got {type(model).__name__}")


@torch.no_grad()
def predict(model: nn.Module, data: Any, *, batch_size: int = 256, device: torch.device | str | None = None) -> torch.Tensor:
    """Outputs of ``model`` (an ``nn.Module``, put in eval mode, or any callable) on every input of ``data``, concatenated, on the CPU.

    ``data`` is ``(X,)``, ``(X, y)`` or a Dataset/DataLoader of such tuples (the last tensor is
    treated as the target and ignored when there are two or more).

    Shapes:
        output: ``(N, ...)``, the model's output per input.

    Shapes:
        data: tensors ``(N, ...)`` sharing their first dimension (or a Dataset / DataLoader).

    Introduced in: 5.1, :doc:`/book/05_models/05_1_cnns`.
    """
    device = get_device() if device is None else torch.device(device)
    _prepare(model, device)
    outs = []
    for batch in batches(data, batch_size):
        batch = _to(batch, device)
        inputs = batch[:-1] if len(batch) > 1 else batch
        outs.append(model(*inputs).cpu())
    return torch.cat(outs)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: Any,
    *,
    metric: Callable[[torch.Tensor, torch.Tensor], float] = accuracy,
    batch_size: int = 256,
    device: torch.device | str | None = None,
) -> float:
    """``metric`` (accuracy by default) of ``model`` in eval mode on all of ``data``.

    The metric is computed once on the concatenated outputs, so it is exact (not an average of
    per-batch values).

    Introduced in: 5.1, :doc:`/book/05_models/05_1_cnns`.
    """
    device = get_device() if device is None else torch.device(device)
    _prepare(model, device)
    outs, targets = [], []
    for batch in batches(data, batch_size):
        *inputs, target = _to(batch, device)
        outs.append(model(*inputs).cpu())
        targets.append(target.cpu())
    if not outs:
        raise ValueError("evaluate got no data")
    return float(metric(torch.cat(outs), torch.cat(targets)))

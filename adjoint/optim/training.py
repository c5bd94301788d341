"""``fit``: a training loop over minibatches, with validation, callbacks and early stopping.

Training is interruptible without losing work: Ctrl-C stops it and ``fit``
returns the parameters trained so far; any other exception (in the loss, the
gradient or a callback) propagates with those parameters attached as
``exc.params`` (and the losses as ``exc.history``).
"""
from __future__ import annotations

import sys
from typing import Any, Callable, Iterator, Sequence, TypeVar, Union

import numpy as np

from ..errors import AdjointError, hidden
from .optimizers import Adam, Optimizer
from .progress import Progress

__all__ = ["fit", "History", "Callback", "EarlyStopping"]

T = TypeVar("T")
Logs = dict[str, float]
StepFunction = Callable[[int, Any, float], Any]


class History(list[float]):
    """The training loss of every step, with what ``fit`` recorded per epoch.

    ``epochs`` holds one dict per epoch: ``epoch``, ``loss`` (the mean training
    loss of its steps) and ``val_loss`` when there is validation data.
    ``stopped`` says why training ended early ("early stopping at epoch 7",
    "stopped by a callback at step 40", "interrupted at step 12"), None when it
    ran to the end.
    """

    def __init__(self) -> None:
        super().__init__()
        self.epochs: list[Logs] = []
        self.stopped: str | None = None

    @property
    def loss(self) -> list[float]:
        """The mean training loss of each epoch."""
        return [e["loss"] for e in self.epochs]

    @property
    def val_loss(self) -> list[float]:
        """The validation loss after each epoch (empty without validation data)."""
        return [e["val_loss"] for e in self.epochs if "val_loss" in e]


class Callback:
    """Hooks ``fit`` calls; return True from ``on_step`` or ``on_epoch`` to stop training."""

    def on_step(self, step: int, params: Any, loss: float) -> bool | None:
        """After each step (``step`` counts from 1)."""
        return None

    def on_epoch(self, epoch: int, params: Any, logs: Logs) -> bool | None:
        """After each epoch, with its ``loss`` and ``val_loss``."""
        return None

    def on_end(self, params: Any) -> Any:
        """The parameters ``fit`` returns, given the last ones (EarlyStopping returns its best)."""
        return params


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    ``monitor`` is "val_loss" or "loss"; by default the validation loss when
    there is validation data. With ``restore_best`` (the default), ``fit``
    returns the parameters of the best epoch, not the last.
    """

    def __init__(self, patience: int = 5, min_delta: float = 0.0, monitor: str | None = None,
                 restore_best: bool = True) -> None:
        self.patience, self.min_delta = patience, min_delta
        self.monitor, self.restore_best = monitor, restore_best
        self.best = float("inf")
        self.best_params: Any = None
        self.best_epoch = 0
        self.waited = 0

    def on_epoch(self, epoch: int, params: Any, logs: Logs) -> bool:
        if epoch == 1:  # a new run of fit: forget the last one's best
            self.best, self.best_params, self.best_epoch, self.waited = float("inf"), None, 0, 0
        key = self.monitor or ("val_loss" if "val_loss" in logs else "loss")
        if key not in logs:
            raise ValueError(f"EarlyStopping monitors {key!r}, which fit does not record "
                             f"(it records {sorted(logs)}); pass validation_data to fit or "
                             "monitor='loss'")
        if logs[key] < self.best - self.min_delta:
            self.best, self.best_params, self.best_epoch, self.waited = logs[key], params, epoch, 0
            return False
        self.waited += 1
        return self.waited >= self.patience

    def on_end(self, params: Any) -> Any:
        return self.best_params if self.restore_best and self.best_params is not None else params


class _StepCallback(Callback):
    """A plain function ``f(step, params, loss)`` as a callback."""

    def __init__(self, fn: StepFunction) -> None:
        self.fn = fn

    def on_step(self, step: int, params: Any, loss: float) -> bool:
        return self.fn(step, params, loss) is True


def _as_data(data: Any, what: str) -> tuple[np.ndarray, ...]:
    """``data`` as a tuple of numeric arrays sharing their first axis, or a clear error."""
    if not isinstance(data, (np.ndarray, list, tuple)):
        raise TypeError(f"fit: {what} must be a tuple of arrays sharing their first axis, such "
                        f"as (X, y), not a {type(data).__name__}")
    items = (data,) if isinstance(data, np.ndarray) else tuple(data)
    if not items:
        raise ValueError(f"fit: {what} is empty; give a tuple of arrays such as (X, y)")
    arrays = tuple(_numeric(x, f"{what}[{k}]") for k, x in enumerate(items))
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) > 1:
        listed = ", ".join(f"{what}[{k}]: {n}" for k, n in enumerate(lengths))
        raise ValueError(f"fit: the arrays of {what} must have one entry per sample along their "
                         f"first axis, but their lengths differ ({listed})")
    return arrays


def _numeric(x: Any, what: str) -> np.ndarray:
    try:
        array = np.asarray(x)
    except ValueError as exc:  # ragged nested lists
        raise TypeError(f"fit: {what} is not an array of numbers ({exc})") from None
    if array.dtype.kind not in "biufc":
        raise TypeError(f"fit: {what} has dtype {array.dtype}; fit needs numbers (convert it "
                        "with np.asarray(..., dtype=float), encode labels as integers)")
    if array.ndim == 0:
        raise ValueError(f"fit: {what} is a single number; fit needs arrays whose first axis "
                         "counts samples")
    return array


def _epoch_batches(n: int, batch_size: int | None, shuffle: bool,
                   rng: np.random.Generator) -> list[Any]:
    """The index of each minibatch of one epoch (a last, smaller batch included)."""
    if batch_size is None or batch_size >= n:
        return [slice(None)]
    order = rng.permutation(n) if shuffle else np.arange(n)
    return [order[start:start + batch_size] for start in range(0, n, batch_size)]


def _schedule(n: int, batch_size: int | None, shuffle: bool, seed: int,
              steps: int) -> Iterator[tuple[bool, Any]]:
    """(last of its epoch, batch index) for ``steps`` steps, epoch after epoch."""
    rng = np.random.default_rng(seed)
    done = 0
    while done < steps:
        batches = _epoch_batches(n, batch_size, shuffle, rng)[:steps - done]
        for k, index in enumerate(batches):
            yield k == len(batches) - 1, index
        done += len(batches)


def _steps(steps: int | None, epochs: int | None, n: int, batch_size: int | None) -> int:
    if steps is not None and epochs is not None:
        raise ValueError("fit: give steps or epochs, not both")
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"fit: batch_size must be a positive integer or None, not {batch_size!r}")
    if epochs is None:
        return 100 if steps is None else steps
    per_epoch = 1 if batch_size is None or batch_size >= n else -(-n // batch_size)
    return epochs * per_epoch


def _callbacks(callback: StepFunction | None,
               callbacks: Sequence[Callback | StepFunction]) -> list[Callback]:
    given = ([callback] if callback is not None else []) + list(callbacks)
    return [c if isinstance(c, Callback) else _StepCallback(c) for c in given]


Data = Union[np.ndarray, Sequence[Any]]


def fit(loss: Callable[..., Any], params: T, data: Data, *, steps: int | None = None,
        epochs: int | None = None, batch_size: int | None = None, shuffle: bool = True,
        validation_data: Data | None = None, optimizer: Optimizer | None = None,
        grad_fn: Callable[..., tuple[Any, Any]] | None = None, seed: int = 0,
        progress: bool | None = None, callback: StepFunction | None = None,
        callbacks: Sequence[Callback | StepFunction] = ()) -> tuple[T, History]:
    """Minimise ``loss(params, *batch)`` over minibatches of ``data``; returns ``(params, history)``.

    ``data`` is a tuple of arrays sharing their first axis (one array alone is
    ``(X,)``). Training runs ``steps`` minibatch steps (default 100) or
    ``epochs`` passes over the data, in a fresh order each epoch when
    ``shuffle`` (batches drawn from a generator seeded by ``seed``); with
    ``batch_size=None`` every step uses all of the data. ``optimizer``
    defaults to ``Adam(1e-2)``; ``grad_fn(params, *batch) -> (value, grads)``
    to ``adjoint.value_and_grad(loss)``. After each epoch ``loss(params,
    *validation_data)`` is recorded when given. ``callback(step, params,
    loss)`` runs after every step and ``callbacks`` (functions like it, or
    ``Callback`` objects such as ``EarlyStopping``) stop training by
    returning True. A progress line is shown when stderr is a terminal
    (``progress=False`` hides it). ``history`` is the loss of every step,
    with per-epoch records in ``history.epochs`` (see ``History``).
    """
    try:
        arrays, validation, total = _arguments(data, validation_data, steps, epochs, batch_size)
    except (TypeError, ValueError) as exc:  # the caller's mistake: shown at the caller's line
        raise hidden(exc) from None
    if grad_fn is None:
        from ..api import value_and_grad
        grad_fn = value_and_grad(loss)
    loop = _Loop(loss, grad_fn, optimizer or Adam(1e-2), _callbacks(callback, callbacks),
                 validation)
    show = sys.stderr.isatty() if progress is None else bool(progress)
    try:
        return loop.run(params, arrays, _schedule(len(arrays[0]), batch_size, shuffle, seed,
                                                  total), Progress(total, show))
    except AdjointError as exc:  # a loss adjoint cannot differentiate: shown at its line
        raise hidden(exc)


def _arguments(data: Data, validation_data: Data | None, steps: int | None, epochs: int | None,
               batch_size: int | None) -> tuple[tuple[np.ndarray, ...],
                                                tuple[np.ndarray, ...] | None, int]:
    """The data and validation data as arrays, and the number of steps, or a clear error."""
    arrays = _as_data(data, "data")
    validation = None if validation_data is None else _as_data(validation_data, "validation_data")
    return arrays, validation, _steps(steps, epochs, len(arrays[0]), batch_size)


class _Loop:
    """One run of ``fit``: the latest parameters live here, so no exception can lose them."""

    def __init__(self, loss: Callable[..., Any], grad_fn: Callable[..., tuple[Any, Any]],
                 optimizer: Optimizer, callbacks: list[Callback],
                 validation: tuple[np.ndarray, ...] | None) -> None:
        self.loss, self.grad_fn, self.optimizer = loss, grad_fn, optimizer
        self.callbacks, self.validation = callbacks, validation
        self.history = History()
        self.params: Any = None
        self.step = 0
        self.epoch_losses: list[float] = []

    def run(self, params: Any, arrays: tuple[np.ndarray, ...],
            schedule: Iterator[tuple[bool, Any]], bar: Progress) -> tuple[Any, History]:
        self.params = params
        state = self.optimizer.init(params)
        try:
            for last, index in schedule:
                state = self._train_step(state, [a[index] for a in arrays], bar)
                if self._stop_after_step() or (last and self._stop_after_epoch()):
                    break
        except KeyboardInterrupt:
            self.history.stopped = f"interrupted at step {self.step}"
        except Exception as exc:
            self._attach(exc)
            raise
        finally:
            bar.close()
        if self.history.stopped and self.history.stopped.startswith("interrupted"):
            print(f"fit: {self.history.stopped}; returning the parameters trained so far",
                  file=sys.stderr)
        return self._final(), self.history

    def _train_step(self, state: Any, batch: list[np.ndarray], bar: Progress) -> Any:
        value, grads = self.grad_fn(self.params, *batch)
        self.params, state = self.optimizer.update(grads, state, self.params)
        self.step += 1
        self.history.append(float(value))
        self.epoch_losses.append(float(value))
        bar.update(self.step, float(value))
        return state

    def _stop_after_step(self) -> bool:
        stops = [c.on_step(self.step, self.params, self.history[-1]) for c in self.callbacks]
        if any(s is True for s in stops):
            self.history.stopped = f"stopped by a callback at step {self.step}"
            return True
        return False

    def _stop_after_epoch(self) -> bool:
        logs: Logs = {"epoch": len(self.history.epochs) + 1,
                      "loss": float(np.mean(self.epoch_losses))}
        self.epoch_losses = []
        if self.validation is not None:
            logs["val_loss"] = float(self.loss(self.params, *self.validation))
        self.history.epochs.append(logs)
        stops = [c.on_epoch(int(logs["epoch"]), self.params, logs) for c in self.callbacks]
        if any(s is True for s in stops):
            self.history.stopped = f"early stopping at epoch {int(logs['epoch'])}"
            return True
        return False

    def _final(self) -> Any:
        params = self.params
        for c in self.callbacks:
            params = c.on_end(params)
        return params

    def _attach(self, exc: Exception) -> None:
        """Give ``exc`` the parameters trained so far, and say so in its message."""
        try:
            exc.params = self.params  # type: ignore[attr-defined]
            exc.history = self.history  # type: ignore[attr-defined]
        except AttributeError:  # an exception type without a __dict__
            return
        note = (f"fit: the parameters after step {self.step} are in this exception's .params, "
                "the losses in .history")
        if hasattr(exc, "add_note"):
            exc.add_note(note)

"""Optimizers over pytrees, learning-rate schedules, gradient clipping and a training loop.

Each optimizer is a pair of pure functions: ``init(params) -> state`` and
``update(grads, state, params) -> (params, state)``. Nothing is mutated, so a
training step is easy to test, checkpoint or differentiate, and parameters can
be any pytree (dicts, lists, tuples of arrays and floats).
"""
from .clipping import clip_by_global_norm, clip_by_value, global_norm
from .training import Callback, EarlyStopping, History, fit
from .optimizers import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from .schedules import (LearningRate, Schedule, constant, cosine_decay, exponential_decay,
                        learning_rate, warmup)

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad",
           "Schedule", "LearningRate", "constant", "exponential_decay", "cosine_decay", "warmup",
           "learning_rate", "global_norm", "clip_by_global_norm", "clip_by_value",
           "fit", "History", "Callback", "EarlyStopping"]

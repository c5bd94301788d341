"""Versions of a name bound again with another rank.

Contract: accepts a normalised body and the ranks inferred from it (a name missing from
them has no single rank: ``w`` a row in a loop, then ``w = np.stack(...)``). Returns the
body with each such name's plain assignments at the function's top level, after its first
binding, each starting a version of its own: that assignment's target and every use up to
the next such assignment are renamed (``w_1``), and the map new name -> the user's. The
value is unchanged: a top-level assignment always runs and replaces the name's value, so
what comes before it can never be read after it. A binding inside a branch or a loop is no
such boundary (it may not run), so only top-level ones split. Each version can then have a
rank of its own, and a backend that types names (Numba) one type per name: the pass runs for
typed builds only, so the derivative a person reads (``source``, the NumPy backend) keeps the
user's names.
"""
from __future__ import annotations

import copy

import gast

from ..astutil import clone, stored_names, subst


def split(body, infer_ranks, params, namer):
    """(body, new name -> the user's name); see the module docstring. ``infer_ranks(body)``
    gives a body's ranks; it runs only where some name is bound again. A name is split only
    where a version of it gets a rank the name had not: elsewhere the derivative keeps the
    user's names."""
    candidates = _rebound(body, params)
    ranks = infer_ranks(body) if candidates else {}
    candidates = [(ident, starts) for ident, starts in candidates if ident not in ranks]
    if not candidates:
        return body, {}
    trial, shown = _renamed(clone(body), candidates, copy.deepcopy(namer))
    ranked = infer_ranks(trial)
    gains = {ident for ident, _ in candidates
             if ident in ranked or any(shown[n] == ident for n in ranked if n in shown)}
    return _renamed(body, [c for c in candidates if c[0] in gains], namer)


def _renamed(body, candidates, namer):
    """``body`` with each top-level binding in ``candidates`` starting a version of its own."""
    shown = {}
    for ident, starts in candidates:
        for a, b in _versions(starts, len(body)):
            new = _fresh(namer, ident)
            body[a].targets[0].id = new
            # up to the next version's binding, which reads this one (its target is renamed next)
            body[a + 1:b + 1] = [subst(s, {ident: new}) for s in body[a + 1:b + 1]]
            shown[new] = ident
    return body, shown


def _rebound(body, params):
    """(name, positions of its top-level bindings after its first binding), for the names
    bound again there."""
    found, bound_before, seen = [], [set(params)], set(params)
    for s in body:  # bound_before[k]: the names statements before the k-th bind
        seen = seen | stored_names(s)
        bound_before.append(seen)
    for ident, starts in sorted(_top_bindings(body).items()):
        starts = starts if ident in bound_before[starts[0]] else starts[1:]
        if starts:
            found.append((ident, starts))
    return found


def _top_bindings(body):
    """name -> positions of the top-level statements that bind it anew."""
    found = {}
    for k, s in enumerate(body):
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) \
                and not getattr(s, "augmented", False):  # ``w /= t``: the same array, changed
            found.setdefault(s.targets[0].id, []).append(k)
    return found


def _versions(starts, end):
    return zip(starts, starts[1:] + [end])


def _fresh(namer, ident):
    """A name no other can collide with, not counted among generated temporaries (which
    later passes may inline: a version is the user's variable, bound where the user binds it)."""
    new = namer.fresh(f"{ident}_")
    namer.generated.discard(new)
    return new

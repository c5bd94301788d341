"""Where each variable lives: the facts the reverse pass needs about a normalised body.

* a variable is *local* to a block when it is bound once, directly in that
  block, and read only after that, inside the block. Its value never crosses
  an iteration boundary, so the reverse sweep can take it off the tape once at
  the top of the reversed block, and its adjoint needs no reset;
* a block is *in a loop* when some enclosing statement is a loop: only there
  can a value be overwritten and need the tape;
* a name is an *integer* when every binding gives it an int (range targets,
  ``len``, int constants and integer arithmetic): indexing with it selects one
  element, so adjoints can be accumulated in place without ``np.add.at``;
* the names *live after a loop*: those a later read may see the value of as the
  loop leaves them (normalize renames a loop target apart where it is not one).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import gast

from ..astutil import all_blocks, loaded_names, name_nodes, walk, walk_stmts


@dataclass
class Scopes:
    local_block: dict = field(default_factory=dict)  # name -> id of the block it is local to
    defs: dict = field(default_factory=dict)  # name -> number of bindings
    loop_blocks: set = field(default_factory=set)  # ids of blocks inside a loop
    bound_before: dict = field(default_factory=dict)  # id(top-level stmt) -> names bound before it
    integers: set = field(default_factory=set)
    loop_targets: set = field(default_factory=set)
    target_read_outside: set = field(default_factory=set)  # ids of for loops whose target
    # is read outside their body: its value after the loop matters

    def is_local(self, ident, block) -> bool:
        return self.local_block.get(ident) == id(block)

    def overwritten(self, ident) -> bool:
        """Whether ``ident`` may hold several values over one call."""
        return ident not in self.local_block or self.defs.get(ident, 0) > 1


def _header_names(stmt):
    if isinstance(stmt, gast.Assign):
        names = loaded_names(stmt.value)
        target = stmt.targets[0]
        if isinstance(target, gast.Subscript):
            names |= loaded_names(target)
        return names
    if isinstance(stmt, gast.If) or isinstance(stmt, gast.While):
        return loaded_names(stmt.test)
    if isinstance(stmt, gast.For):
        return loaded_names(stmt.iter)
    if isinstance(stmt, (gast.Expr, gast.Return)):
        return loaded_names(stmt.value) if stmt.value is not None else set()
    return loaded_names(stmt)


def analyse(body, params) -> Scopes:
    scopes = Scopes()
    first_def = {}  # name -> (block id, order)
    uses = {}  # name -> list of (block path, order)
    order = [0]

    def visit(stmts, path, in_loop):
        bid = id(stmts)
        if in_loop:
            scopes.loop_blocks.add(bid)
        for s in stmts:
            order[0] += 1
            here = order[0]
            for n in _header_names(s):
                uses.setdefault(n, []).append((path + (bid,), here))
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
                ident = s.targets[0].id
                scopes.defs[ident] = scopes.defs.get(ident, 0) + 1
                first_def.setdefault(ident, (bid, here))
            if isinstance(s, gast.For):
                scopes.loop_targets.add(s.target.id)
            for block in (getattr(s, "body", None), getattr(s, "orelse", None)):
                if block:
                    visit(block, path + (bid,), in_loop or isinstance(s, (gast.For, gast.While)))

    for p in params:
        scopes.defs[p] = 1
        first_def[p] = (id(body), 0)
    visit(body, (), False)
    for ident, (bid, at) in first_def.items():
        if scopes.defs[ident] != 1 or ident in scopes.loop_targets:
            continue
        if all(bid in path and when > at for path, when in uses.get(ident, [])):
            scopes.local_block[ident] = bid
    _bound_before(body, params, scopes)
    scopes.integers = integer_names(body)
    scopes.target_read_outside = _targets_read_outside(body)
    return scopes


def _loads(node, ident):
    return sum(n.id == ident and isinstance(n.ctx, gast.Load) for n in name_nodes(node))


def _targets_read_outside(body):
    """The for loops whose target is read somewhere outside the loop's body."""
    from ..astutil import walk_stmts
    whole = gast.Module(body=body, type_ignores=[])
    return {id(s) for s in walk_stmts(body) if isinstance(s, gast.For)
            and _loads(whole, s.target.id) > sum(_loads(b, s.target.id) for b in s.body)}


def _bound_before(body, params, scopes):
    bound = set(params)
    for s in body:
        scopes.bound_before[id(s)] = set(bound)
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
            bound.add(s.targets[0].id)


_INT_OPS = (gast.Add, gast.Sub, gast.Mult, gast.FloorDiv, gast.Mod)


def integer_names(body) -> set:
    """Names every binding of which in ``body`` is an int (a constant, a loop counter, a
    size, integer arithmetic of those)."""
    from ..astutil import walk_stmts
    bindings = {}
    for s in walk_stmts(body):
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
            bindings.setdefault(s.targets[0].id, []).append(s.value)
        elif isinstance(s, gast.For):  # every loop iterates a range
            bindings.setdefault(s.target.id, []).append(gast.Constant(value=0, kind=None))
    shapes = {ident for ident, values in bindings.items()
              if all(isinstance(v, gast.Attribute) and v.attr == "shape" for v in values)}
    ints = set(bindings) - shapes  # optimistic, so that a counter ``k = k + 1`` is one
    changed = True
    while changed:
        changed = False
        for ident, values in bindings.items():
            if ident in ints and not all(_int_valued(v, ints, shapes) for v in values):
                ints.discard(ident)
                changed = True
    return ints


def _int_valued(v, ints, shapes):
    """Whether ``v`` is an int given the names ``ints`` holds and the names holding shapes."""
    if isinstance(v, gast.Constant):
        return type(v.value) is int
    if isinstance(v, gast.Name):
        return v.id in ints
    if isinstance(v, gast.BinOp):
        return isinstance(v.op, _INT_OPS) and _int_valued(v.left, ints, shapes) and \
            _int_valued(v.right, ints, shapes)
    if isinstance(v, gast.UnaryOp):
        return isinstance(v.op, (gast.USub, gast.UAdd)) and _int_valued(v.operand, ints, shapes)
    if isinstance(v, gast.Call):
        return getattr(v, "callee", None) in (len, int)
    if isinstance(v, gast.Attribute):
        return v.attr in ("ndim", "size")
    if isinstance(v, gast.Subscript):  # an entry of a shape: a.shape[k]
        shape = isinstance(v.value, gast.Attribute) and v.value.attr == "shape" or \
            isinstance(v.value, gast.Name) and v.value.id in shapes
        return shape and _int_valued(v.slice, ints, shapes)
    return False


def index_integers(body, ranks, integers) -> set:
    """Names proven integers by their use: every binding is ``a + b``, ``a - b`` or ``a * b``
    of numbers (rank 0) one of which is an int, and every read is a position of an index into
    an array (``icf[k, j]`` after ``j = index[r, c] + d``). A boolean number plus an int is
    an int and a float index raises, so wherever the value is used it is an int."""
    bindings, reads, loads = {}, {}, {}
    for s in walk_stmts(body):
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
            bindings.setdefault(s.targets[0].id, []).append(s.value)
    for node in walk(gast.Module(body=body, type_ignores=[])):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
            loads[node.id] = loads.get(node.id, 0) + 1
        if isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name) and \
                ranks.get(node.value.id) is not None:  # an array's (a dict takes float keys)
            for p in node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]:
                if isinstance(p, gast.Name):
                    reads[p.id] = reads.get(p.id, 0) + 1
    return {ident for ident, values in bindings.items() if ident not in integers
            and reads.get(ident) == loads.get(ident, 0) > 0
            and all(_int_arithmetic(v, ranks, integers) for v in values)}


def _int_arithmetic(v, ranks, integers):
    """``a op b`` of numbers, ``op`` one that keeps ints ints, one operand an int."""
    if not (isinstance(v, gast.BinOp) and isinstance(v.op, (gast.Add, gast.Sub, gast.Mult))):
        return False
    sides = (v.left, v.right)
    number = all(isinstance(n, gast.Constant) and type(n.value) is int or
                 isinstance(n, gast.Name) and ranks.get(n.id) == 0 for n in sides)
    return number and any(isinstance(n, gast.Constant) and type(n.value) is int or
                          isinstance(n, gast.Name) and n.id in integers for n in sides)


def surely_bound(body, bound):
    """The names certainly bound after ``body`` runs, given those ``bound`` before it: an
    ``if`` binds what both branches bind; a loop's body may not run."""
    bound = set(bound)
    for s in body:
        if isinstance(s, gast.Assign):
            bound |= {n.id for n in walk(s.targets[0])
                      if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
        elif isinstance(s, gast.If):
            bound = surely_bound(s.body, bound) & surely_bound(s.orelse, bound)
    return bound


def read_unbound(body, bound) -> set:
    """The names ``body`` may read while they are not surely bound, given those ``bound`` before
    it (reads Python answers with UnboundLocalError): a loop's body is read with its target
    bound, an ``if``'s branches each from what is bound before it."""
    bound, out = set(bound), set()
    for s in body:
        if isinstance(s, gast.If):
            out |= (loaded_names(s.test) - bound) | read_unbound(s.body, bound) | read_unbound(s.orelse, bound)
        elif isinstance(s, (gast.For, gast.While)):
            head = s.iter if isinstance(s, gast.For) else s.test
            inner = bound | ({n.id for n in name_nodes(s.target)} if isinstance(s, gast.For) else set())
            out |= (loaded_names(head) - bound) | read_unbound(s.body, inner) | read_unbound(s.orelse, bound)
        else:
            aug = {s.target.id} if isinstance(s, gast.AugAssign) and isinstance(s.target, gast.Name) else set()
            out |= (loaded_names(s) | aug) - bound
        bound = surely_bound([s], bound)
    return out


def dicts(body) -> set:
    """Names bound to a dict the function makes (``{...}``, ``dict(...)``, a dict comprehension),
    into which a write may add a key."""
    from ..runtime import dict_from
    return {s.targets[0].id for s in walk_stmts(body)
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)
            and (isinstance(s.value, gast.Dict)
                 or getattr(s.value, "callee", None) in (dict, dict_from))}


def settled_arrays(body, ranks, integers, local_block) -> dict:
    """Arrays the function makes (``np.zeros``, ``np.ones``, ``np.empty``, ``np.full``), binds
    once, in the block they are local to, and uses only element by element (``q[k, r]`` with
    one integer per axis, read or written): name -> (that block's id, the position in it of
    the last statement that binds or writes one). No other name can reach their memory, so
    after that statement an element reads the same number in the forward sweep and in the
    backward one (which restores a loop's local at the top of its reversed block), and may
    read it again instead of taping it (``reverse.Reverse._recomputable``)."""
    import numpy as np
    fresh = (np.zeros, np.ones, np.empty, np.full)
    made = [s.targets[0].id for s in walk_stmts(body) if isinstance(s, gast.Assign)
            and isinstance(s.targets[0], gast.Name) and getattr(s.value, "callee", None) in fresh]
    candidates = {n for n in made if isinstance(ranks.get(n), int) and n in local_block}
    candidates -= _used_whole(body, candidates, ranks, integers)
    last = {}
    for block in all_blocks(body):
        for at, s in enumerate(block):
            for n in candidates & _written(s):
                if local_block[n] == id(block):
                    last[n] = (id(block), at)
    return last


def _used_whole(body, names, ranks, integers) -> set:
    """Those of ``names`` some use of which is not one element (a view, the whole array, a
    second binding): an element is indexed by one integer per axis."""
    elements = set()
    for node in walk(gast.Module(body=body, type_ignores=[])):
        if isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name):
            parts = node.slice.elts if isinstance(node.slice, gast.Tuple) else [node.slice]
            if len(parts) == ranks.get(node.value.id) and \
                    all(_integer_index(p, integers) for p in parts):
                elements.add(id(node.value))
    uses = [n for n in name_nodes(gast.Module(body=body, type_ignores=[])) if n.id in names]
    binds = [n.id for n in uses if isinstance(n.ctx, gast.Store)]
    return {n.id for n in uses if isinstance(n.ctx, gast.Load) and id(n) not in elements} | \
        {n for n in names if binds.count(n) != 1}


def _integer_index(node, integers) -> bool:
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        node = node.operand
    return isinstance(node, gast.Constant) and type(node.value) is int or \
        isinstance(node, gast.Name) and node.id in integers


def _written(stmt) -> set:
    """Names ``stmt`` binds or writes an item of, anywhere inside it."""
    out = set()
    for node in walk(stmt):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
            out.add(node.id)
        elif isinstance(node, gast.Subscript) and isinstance(node.ctx, gast.Store) and \
                isinstance(node.value, gast.Name):
            out.add(node.value.id)
    return out


def live_after_loops(body) -> dict:
    """id(loop) -> the names some read may see the value of as the loop leaves them: liveness,
    to a fixed point around loops (what a ``break`` leaves is live where the loop's exit is)."""
    found = {}
    _live(body, set(), set(), found)
    return found


def _live(stmts, live, exit_, found):
    """The names live before ``stmts`` given those ``live`` after them (``exit_``: live after
    the innermost loop around them), recording each loop's live names after it in ``found``."""
    for s in reversed(stmts):
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
            live = (live - {s.targets[0].id}) | loaded_names(s.value)
        elif isinstance(s, gast.If):
            live = loaded_names(s.test) | _live(s.body, live, exit_, found) | _live(s.orelse, live, exit_, found)
        elif isinstance(s, (gast.For, gast.While)):
            found[id(s)] = found.get(id(s), set()) | live
            target = {s.target.id} if isinstance(s, gast.For) else set()
            head = loaded_names(s.iter if isinstance(s, gast.For) else s.test)
            top = live | head  # before the test or the next item, where each trip starts
            while True:
                more = top | (_live(s.body, top, live, found) - target)
                if more == top:
                    break
                top = more
            live = top
        elif isinstance(s, gast.Break):
            live = live | exit_
        else:  # x += v reads x too
            live = live | loaded_names(s) | ({s.target.id} if isinstance(s, gast.AugAssign) and
                                            isinstance(s.target, gast.Name) else set())
    return live

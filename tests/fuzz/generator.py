"""A seeded generator of random NumPy programs inside adjoint's documented subset.

A program is a tree of statements (``Stmt``, ``Block``) so the shrinker can
delete or unwrap parts of it; ``Program.source`` renders it as a module with
its helpers and the function ``f``. Values stay well-conditioned for finite
differences: logs and square roots see ``1 + e*e``, exponentials see bounded
arguments, divisions divide by ``1 + e*e``, and loop-carried values are
squashed by ``tanh``/``sin`` or damped.

The generator is plain Python on ``random.Random(seed)``: the same seed and
families give the same program in every process.
"""
from __future__ import annotations

import ast
import copy
import random
from dataclasses import dataclass, field

import numpy as np

S, V2, V3, M = (), (2,), (3,), (2, 3)
SHAPES = (S, V2, V3, M)
COL = "col"  # a (2, 1) column: only ever an operand broadcast against M

PLAIN_NAMES = ["a", "b", "c", "u", "v", "w", "h", "z", "acc", "out", "tmp", "total", "r", "q",
               "y2", "m", "d", "e", "p2", "s2"]
HYGIENE_NAMES = ["seed", "saved", "x_bar", "t1", "t2", "cond1", "x_tape", "trips1", "returned",
                 "a_bar", "i_tape", "g", "ans", "t3_bar", "cond2", "trips2", "out_dot"]
PARAM_NAMES = ["x", "y", "A", "B", "k1", "s"]
HYGIENE_PARAMS = ["x_bar", "seed", "t1", "saved", "g"]
LOOP_NAMES = ["i", "j", "n"]
HYGIENE_LOOP_NAMES = ["t1", "i_bar", "trips1"]


@dataclass
class Stmt:
    text: str


@dataclass
class Block:
    header: str
    body: list
    orelse: list | None = None


@dataclass
class Return:
    terms: list


@dataclass
class Helper:
    name: str
    params: list
    body: list
    keyword_only: bool = False  # its last parameter (compiled code cannot call such by keyword)

    @property
    def signature(self):
        names = self.params[:-1] + ["*"] + self.params[-1:] if self.keyword_only else self.params
        return ", ".join(names)


@dataclass
class Program:
    """One generated program: its statement tree, parameters, wrt and the families it used."""
    seed: int
    params: list            # (name, spec): spec a shape, or ("dict"|"tuple"|"list", [(key, shape)])
    body: list
    helpers: list
    wrt: tuple
    used: set = field(default_factory=set)

    @property
    def source(self):
        lines = ["import numpy as np", ""]
        for h in self.helpers:
            lines += ["", f"def {h.name}({h.signature}):"] + render(h.body, 1)
        lines += ["", "", f"def f({', '.join(n for n, _ in self.params)}):"]
        return "\n".join(lines + render(self.body, 1)) + "\n"

    def args(self):
        """Fresh argument values (a new copy each call), drawn from the program's seed."""
        rng = np.random.default_rng(self.seed)
        return tuple(_value(spec, rng) for _, spec in self.params)

    def wrt_specs(self):
        return [self.params[p][1] for p in self.wrt]


def is_tree(spec):
    """Whether a parameter spec is a pytree ("dict"/"tuple"/"list", items) rather than a shape."""
    return isinstance(spec, tuple) and bool(spec) and isinstance(spec[0], str)


def _value(spec, rng):
    if is_tree(spec):
        kind, items = spec
        values = [_value(shape, rng) for _, shape in items]
        if kind == "dict":
            return {k: v for (k, _), v in zip(items, values)}
        return tuple(values) if kind == "tuple" else list(values)
    x = rng.uniform(-1.0, 1.0, spec)
    # away from kinks at zero, off the constants tests use, and apart from each other (two
    # equal entries are a tie where np.min and np.max have no derivative)
    x = np.where(np.abs(x) < 0.05, 0.3179 + 0.0123 * np.arange(np.size(x)).reshape(np.shape(x)), x)
    return float(x) if spec == () else x


def render(nodes, depth):
    pad = "    " * depth
    out = []
    for node in nodes:
        if isinstance(node, Stmt):
            out.append(pad + node.text)
        elif isinstance(node, Return):
            out.append(pad + "return " + " + ".join(node.terms))
        else:
            out.append(pad + node.header)
            out += render(node.body, depth + 1) or [pad + "    pass"]
            if node.orelse is not None:
                out.append(pad + "else:")
                out += render(node.orelse, depth + 1) or [pad + "    pass"]
    return out


class Env:
    """What the generator knows at a point of the program: names, shapes, views, loop indices."""

    def __init__(self):
        self.shapes = {}     # name -> shape
        self.alone = {}      # name -> True when it holds an array no other name can reach
        self.ints = {}       # loop index name -> exclusive bound
        self.trees = {}      # pytree parameter -> (kind, items)
        self.in_loop = False
        self.depth = 0       # blocks around this point
        self.lists = set()
        self.rebound = set()  # names bound again to a new array (in a loop: every trip)
        self.written = set()  # names written into by subscript
        self.viewed = set()   # names some alias or view refers to (a write into them is seen)

    def child(self):
        inner = copy.deepcopy(self)
        inner.depth += 1
        return inner

    def merge(self, inner):
        """After a block: outer names keep their shapes; a name shared inside stays shared."""
        for name in self.shapes:
            self.alone[name] = self.alone[name] and inner.alone.get(name, False)
        self.rebound |= inner.rebound
        self.written |= inner.written
        self.viewed |= inner.viewed

    def names(self, shape):
        return [n for n, s in self.shapes.items() if s == shape]


def _derived_clash(name, names):
    """Whether ``name`` and a chosen parameter are ``x`` and ``x_bar``: documented as refused."""
    return any(a == b + "_bar" for other in names for a, b in ((name, other), (other, name)))


def is_view(text):
    """Whether an expression can be a view or the array of another name (so a write is shared)."""
    node = ast.parse(text, mode="eval").body
    while True:
        if isinstance(node, ast.Name):
            return True
        if isinstance(node, ast.IfExp):
            return is_view(ast.unparse(node.body)) or is_view(ast.unparse(node.orelse))
        if isinstance(node, ast.Attribute) and node.attr == "T":
            node = node.value
        elif isinstance(node, ast.Subscript) and not _fancy(node.slice):
            node = node.value
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in ("reshape", "ravel")):
            node = node.func.value
        else:
            return False


def _fancy(index):
    """Index arrays and masks copy; integers (loop indices included) and slices give views."""
    return any(isinstance(n, (ast.List, ast.Call, ast.Compare)) for n in ast.walk(index))


class Gen:
    """Draws one program; ``families`` limits the constructs it may use."""

    def __init__(self, seed, families, size=6):
        self.rng = random.Random(seed)
        self.seed = seed
        self.on = set(families)
        self.size = size
        self.used = set()
        self.helpers = []
        self.counter = 0
        self.ever = set()  # names bound so far in this function (reused only under shape_rebind)

    # -- small utilities ---------------------------------------------------
    def pick(self, seq):
        return seq[self.rng.randrange(len(seq))]

    def chance(self, p):
        return self.rng.random() < p

    def may(self, family, p=1.0):
        """Whether to use ``family`` here (and if so, record it as used)."""
        if family in self.on and self.chance(p):
            self.used.add(family)
            return True
        return False

    def fresh_name(self, env):
        pool = PLAIN_NAMES + (HYGIENE_NAMES if "name_hygiene" in self.on else [])
        reuse = "shape_rebind" in self.on
        for _ in range(50):
            name = self.pick(pool)
            if name not in env.shapes and name not in env.ints and name not in env.trees \
                    and name not in env.lists and (reuse or name not in self.ever):
                if name in HYGIENE_NAMES:
                    self.used.add("name_hygiene")
                if name in self.ever:
                    self.used.add("shape_rebind")
                self.ever.add(name)
                return name
        self.counter += 1
        return f"v{self.counter}"

    def const(self):
        return self.pick(["0.5", "1.5", "0.3", "2.0", "0.7", "1.2", "0.25"])

    def index(self, env, n):
        ints = list(env.ints.items())
        if ints and self.chance(0.6):
            name, bound = self.pick(ints)
            return name if bound <= n else f"{name} % {n}"
        return str(self.pick(list(range(n)) + [-1]))

    # -- expressions -------------------------------------------------------
    def expr(self, shape, depth=2):
        if shape == COL:
            return self.column(depth)
        if depth <= 0 or self.chance(0.25):
            return self.leaf(shape)
        makers = [self.unary, self.binary, self.binary]
        if "reductions" in self.on and shape != M:
            makers.append(self.reduction)
        if "linalg" in self.on:
            makers.append(self.product)
        if "shapes" in self.on:
            makers.append(self.shaped)
        if "index_reads" in self.on and shape != M:
            makers.append(self.read)
        if "branches" in self.on:
            makers.append(self.ternary)
        if "complex" in self.on:
            makers.append(self.complex_detour)
        return self.pick(makers)(shape, depth - 1)

    def leaf(self, shape):
        names = self.env.names(shape)
        if names and self.chance(0.85):
            return self.pick(names)
        if shape == S:
            if "index_reads" in self.on and self.chance(0.5):
                return self.read(S, 0)
            return self.const()
        if shape == M and self.env.names(V3) and self.env.names(V2):
            return f"np.outer({self.pick(self.env.names(V2))}, {self.pick(self.env.names(V3))})"
        if shape != M and self.env.names(M) and "index_reads" in self.on:
            return self.read(shape, 0)
        return f"{self.leaf(S)} * np.ones({shape if len(shape) > 1 else shape[0]})"

    def column(self, depth):
        self.used.add("arith")
        forms = [f"({self.expr(V2, depth)})[:, None]", f"({self.expr(V2, depth)}).reshape(2, 1)"]
        if "reductions" in self.on:
            forms.append(f"np.sum({self.expr(M, depth)}, axis=1, keepdims=True)")
        return self.pick(forms)

    def unary(self, shape, depth):
        e = self.expr(shape, depth)
        if not self.may("ufuncs", 0.8):
            self.used.add("arith")
            return self.pick([f"-{e}", f"({e}) ** 2", f"({e}) * ({e})", f"+{e}", f"({e}) ** 3"])
        return self.pick([
            f"np.sin({e})", f"np.cos({e})", f"np.tanh({e})", f"np.exp(np.sin({e}))",
            f"np.log(1.0 + ({e}) ** 2)", f"np.sqrt(0.5 + ({e}) ** 2)", f"np.abs({e})",
            f"np.arctan({e})", f"np.square({e})", f"np.exp(-({e}) ** 2)",
            f"1.0 / (1.5 + np.cos({e}))", f"np.log(np.cosh({e}))",
        ])

    def complex_detour(self, shape, depth):
        """A real value computed through complex ones, whose adjoints need their ``conj``."""
        self.used.add("complex")
        a, b = self.expr(shape, depth), self.expr(shape, depth)
        forms = [f"np.abs(({a}) * np.exp(1j * ({b})) + 0.5j)",
                 f"np.imag((({a}) + 2j) ** 2 * ({b}))",
                 f"np.abs(np.sqrt(({a}) - 0.3183 + 0j)) * ({b})",  # no constant: its kink
                 f"np.real(np.conj(({a}) * (1.0 - 2j)) * np.exp(1j * ({b})))"]
        if shape != S:  # along the last axis, which keeps the shape
            forms.append(f"np.real(np.fft.ifft(np.fft.fft({a}) * (1.0 + 0.5j)) * np.exp(1j * ({b})))")
        return self.pick(forms)

    def operand_shapes(self, shape):
        options = [(shape, shape), (shape, S), (S, shape)]
        if shape == M:
            options += [(M, V3), (V3, M), (M, COL), (COL, M)]
        return self.pick(options)

    def binary(self, shape, depth):
        left, right = self.operand_shapes(shape)
        a, b = self.expr(left, depth), self.expr(right, depth)
        if self.may("ufuncs", 0.2):
            return f"np.{self.pick(['maximum', 'minimum'])}({a}, {b})"
        self.used.add("arith")
        op = self.pick(["+", "-", "*", "*", "/", "**"] + (["//", "%"] if self.may("floor_mod", 0.3) else []))
        if op == "/":
            return f"{a} / (1.0 + ({b}) ** 2)"
        if op == "**":
            return f"(1.0 + ({a}) ** 2) ** np.sin({b})" if self.chance(0.3) else f"({a}) ** 2 * {b}"
        if op == "//":
            return f"({a} // 0.7) * {b}"
        if op == "%":
            return f"({a}) % 1.7 + {b}"
        return f"{a} {op} {b}"

    def reduction(self, shape, depth):
        self.used.add("reductions")
        fn = self.pick(["sum", "mean", "max", "min", "sum", "mean"])
        if shape == S:
            if self.chance(0.2):
                return f"np.prod({self.expr(self.pick([V2, V3]), depth)})"
            return f"np.{fn}({self.expr(self.pick([V2, V3, M]), depth)})"
        axis = 0 if shape == V3 else 1
        return f"np.{fn}({self.expr(M, depth)}, axis={axis})"

    def product(self, shape, depth):
        self.used.add("linalg")
        if shape == S:
            v = self.pick([V2, V3])
            a, b = self.expr(v, depth), self.expr(v, depth)
            return self.pick([f"np.dot({a}, {b})", f"({a}) @ ({b})"])
        if shape == V2:
            return self.pick([f"({self.expr(M, depth)}) @ ({self.expr(V3, depth)})",
                              f"np.dot({self.expr(M, depth)}, {self.expr(V3, depth)})"])
        if shape == V3:
            return self.pick([f"({self.expr(V2, depth)}) @ ({self.expr(M, depth)})",
                              f"({self.expr(M, depth)}).T @ ({self.expr(V2, depth)})"])
        return f"np.outer({self.expr(V2, depth)}, {self.expr(V3, depth)})"

    def shaped(self, shape, depth):
        self.used.add("shapes")
        c = f"{self.expr(shape, depth)} > {self.pick(['0.0', '0.2', '-0.3'])}"
        forms = [f"np.where({c}, {self.expr(shape, depth)}, {self.expr(shape, depth)})"]
        if shape == M:
            forms += [f"({self.expr(M, depth)}).reshape(3, 2).T",
                      f"np.stack([{self.expr(V3, depth)}, {self.expr(V3, depth)}])",
                      f"np.stack([{self.expr(V2, depth)}, {self.expr(V2, depth)}, "
                      f"{self.expr(V2, depth)}], axis=1)",
                      f"({self.expr(M, depth)}).T.T",
                      f"np.transpose(({self.expr(M, depth)}).reshape(3, 2), (-1, 0))"]  # axes from the end
        elif shape == V3:
            forms += [f"np.concatenate([{self.expr(V2, depth)}, ({self.expr(V3, depth)})[:1]])",
                      f"({self.expr(M, depth)}).ravel()[1:4]", f"np.flip({self.expr(V3, depth)})",
                      f"({self.expr(V3, depth)})[::-1]"]
        elif shape == V2:
            forms += [f"np.concatenate([{self.expr(V3, depth)}[:1], ({self.expr(V3, depth)})[2:]])",
                      f"({self.expr(M, depth)}).reshape(6)[::3]"]
        if shape in (V2, V3) and self.may("cumsum", 0.3):
            forms = [f"np.cumsum({self.expr(shape, depth)})"]
        return self.pick(forms)

    def read(self, shape, depth):
        self.used.add("index_reads")
        if shape == S:
            forms = []
            for v in self.env.names(V2) + self.env.names(V3):
                forms.append(f"{v}[{self.index(self.env, self.env.shapes[v][0])}]")
            for a in self.env.names(M):
                forms.append(f"{a}[{self.index(self.env, 2)}, {self.index(self.env, 3)}]")
            if self.env.names(V3):
                forms.append(f"np.sum({self.pick(self.env.names(V3))}[{self.pick(self.env.names(V3))} > 0.0])")
            return self.pick(forms) if forms else self.const()
        sources = {V3: [], V2: []}
        for a in self.env.names(M):
            sources[V3] += [f"{a}[{self.index(self.env, 2)}]", f"{a}[-1]"]
            sources[V2] += [f"{a}[:, {self.index(self.env, 3)}]", f"{a}[:, 1:2].ravel()"]
        for v in self.env.names(V3):
            sources[V2] += [f"{v}[1:]", f"{v}[:2]", f"{v}[[0, 2]]", f"{v}[np.array([2, 0])]"]
            sources[V3] += [f"{v}[[2, 0, 2]]", f"{v}[::-1]", f"{v}[np.arange(3)]"]
        forms = sources[shape]
        return self.pick(forms) if forms else self.leaf(shape)

    def ternary(self, shape, depth):
        self.used.add("branches")
        return f"({self.expr(shape, depth)} if {self.cond()} else {self.expr(shape, depth)})"

    # -- conditions --------------------------------------------------------
    def scalar_test(self):
        e = self.leaf(S) if self.chance(0.5) else self.expr(S, 1)
        return f"{e} {self.pick(['>', '<', '>=', '<='])} {self.pick(['0.0', '0.3', '-0.2', '0.5'])}"

    def cond(self):
        if not self.may("bool_conds", 0.6):
            return self.scalar_test()
        e = self.leaf(S)
        return self.pick([
            f"{self.scalar_test()} and {self.scalar_test()}",
            f"{self.scalar_test()} or {self.scalar_test()}",
            f"not {self.scalar_test()}",
            f"-0.5 < {e} < 0.6",
            f"not ({self.scalar_test()} and {self.scalar_test()})",
            f"{self.scalar_test()} and ({self.scalar_test()} or {self.scalar_test()})",
        ])

    # -- statements --------------------------------------------------------
    def block(self, env, size):
        """A list of statements, with ``env`` updated as they bind names."""
        self.env = env
        nodes = []
        for _ in range(size):
            self.env = env
            node = self.statement(env)
            nodes += node if isinstance(node, list) else [node]
        return nodes

    def statement(self, env):
        makers = [(self.assign, 4)]
        table = [("aug_assign", self.aug, 1), ("element_writes", self.owned_write, 1),
                 ("slice_writes", self.owned_write, 1), ("mask_writes", self.owned_write, 0.5),
                 ("index_writes", self.owned_write, 0.5), ("repeated_indices", self.owned_write, 0.5),
                 ("param_writes", self.param_write, 0.5), ("aliasing", self.alias, 1),
                 ("aliasing", self.list_alias, 0.5),
                 ("tuple_unpack", self.unpack, 0.5), ("rebind_self", self.rebind, 0.5),
                 ("helpers", self.call_helper, 0.7), ("closures", self.closure, 0.5),
                 ("branches", self.branch, 1),
                 ("loops", self.loop, 1.5), ("list_append", self.append_loop, 0.4),
                 ("comprehensions", self.comprehension, 0.6), ("shifts", self.shift_block, 0.5),
                 ("settled_reads", self.settled_block, 0.4)]
        nested = ("branches", "loops", "list_append", "settled_reads")
        for family, maker, weight in table:
            if family in self.on and not (env.depth >= 2 and family in nested):
                makers.append((maker, weight))
        if env.in_loop and ("jumps" in self.on or "early_return" in self.on):
            makers.append((self.jump, 1.6))  # break, continue, return: each rare else (in loops only)
        total = sum(w for _, w in makers)
        r = self.rng.random() * total
        for maker, weight in makers:
            r -= weight
            if r <= 0:
                return maker(env)
        return makers[0][0](env)

    def shift_block(self, env):
        """A max (or min) subtracted before ``exp``, as softmax, log-softmax and log-sum-exp
        do (its shift cancels), or a near miss: a sum over another axis, the max read again,
        a shifted value used alone."""
        self.used.add("shifts")
        over_all = self.chance(0.3)
        keep = "" if over_all else f", axis={self.pick(['1', '-1'])}, keepdims=True"
        summed = "" if over_all else f", axis={self.pick(['1', '-1', '1', '0'])}, keepdims=True"
        stmts = []
        src = self._bound(env, stmts, M, self.expr(M))
        fn = self.pick(["max", "max", "min"])
        m = self._bound(env, stmts, S if over_all else COL, f"np.{fn}({src}{keep})")
        d = self._bound(env, stmts, M, f"{src} - {m}")
        lse = f"np.log(np.sum(np.exp({d}){summed}))"
        text, shape = self.pick([(f"{d} - {lse}", M), (f"np.exp({d}) / np.sum(np.exp({d}){summed})", M),
                                 (f"np.sum({m} + {lse})", S), (f"np.exp({d}) * 0.5", M),
                                 (f"{d} - {lse} + 0.1 * np.sum({m})", M)])
        self._bound(env, stmts, shape, text)
        return stmts

    def settled_block(self, env):
        """An array made with ``np.zeros`` and filled element by element, then read by elements
        in a later nested loop and nowhere whole (its reads need no tape), sometimes written
        again after that loop (then they do)."""
        self.used.update({"settled_reads", "loops"})
        name, acc = self.fresh_name(env), self.fresh_name(env)
        k = self.loop_name(env)
        inner = env.child()
        inner.ints[k] = 3
        i = self.loop_name(inner)
        n = self.rng.randint(2, 4)
        stmts = [Stmt(f"{name} = np.zeros(3)"),
                 Block(f"for {k} in range(3):", [Stmt(f"{name}[{k}] = np.exp(0.3 * np.tanh({self.expr(S, 1)}))")]),
                 Stmt(f"{acc} = 0.0"),
                 Block(f"for {i} in range({n}):", [Block(f"for {k} in range(3):", [
                     Stmt(f"{acc} = {acc} + np.sin({name}[{k}] * ({self.expr(S, 1)}) * {acc} + 0.1)")])])]
        if self.chance(0.3):
            j = self.pick(["0", "2", "-1"])
            stmts += [Stmt(f"{name}[{j}] = {name}[{j}] * ({self.expr(S, 1)})"),
                      Stmt(f"{acc} = {acc} + {name}[{j}]")]
        self.bind(env, acc, S, "0.0")
        return stmts

    def _bound(self, env, stmts, shape, text):
        """A fresh name bound to ``text``, its statement appended to ``stmts``."""
        name = self.fresh_name(env)
        self.bind(env, name, shape, text)
        if shape == COL:  # a column is only an operand here, never picked as a value
            del env.shapes[name]
        stmts.append(Stmt(f"{name} = {text}"))
        return name

    def bind(self, env, name, shape, text):
        """Bind ``name``; a view or alias (``b = a``, ``b = a[0]``) makes both names shared."""
        env.shapes[name] = shape
        env.alone[name] = not is_view(text)
        if not env.alone[name]:
            for node in ast.walk(ast.parse(text, mode="eval")):
                if isinstance(node, ast.Name) and node.id in env.alone:
                    env.alone[node.id] = False
                    env.viewed.add(node.id)

    def assign(self, env):
        existing = [n for n in env.shapes if n not in env.trees
                    and (n not in env.written or "carried_writes" in self.on)]
        if env.in_loop and existing and self.chance(0.6):
            name = self.pick(existing)
            shape = env.shapes[name]
            e = self.expr(shape)
            text = self.pick([f"np.tanh({e})", f"0.5 * {name} + 0.5 * np.sin({e})",
                              f"0.9 * {name} + 0.1 * np.cos({e})"])
            self.used.add("ufuncs")
            env.rebound.add(name)
            if name in env.written:
                self.used.add("carried_writes")
        else:
            name, shape = self.fresh_name(env), self.pick(SHAPES)
            text = self.expr(shape)
            if not env.in_loop and name in env.shapes:
                shape = env.shapes[name]
        self.bind(env, name, shape, text)
        return Stmt(f"{name} = {text}")

    def aug(self, env):
        scalars = [n for n in env.names(S) if env.alone[n]]
        arrays = [n for n in env.shapes if env.shapes[n] != S and env.alone[n]]
        if not scalars and not arrays:
            return self.assign(env)
        name = self.pick(scalars + arrays)
        self.used.add("aug_assign")
        return self.aug_of(env, name)

    def aug_of(self, env, name):
        shape = env.shapes[name]
        e = self.expr(self.pick([shape, S]) if shape != S else S, 1)
        if env.in_loop:
            return Stmt(self.pick([f"{name} += 0.3 * np.sin({e})", f"{name} *= np.cos({e})",
                                   f"{name} -= 0.2 * np.tanh({e})"]))
        op = self.pick(["+=", "-=", "*="])
        if self.chance(0.2):
            return Stmt(f"{name} /= 1.0 + ({e}) ** 2")
        return Stmt(f"{name} {op} {e}")

    def target(self, env, family):
        """An index expression of ``family`` into an array of some shape, and the value's shape."""
        shape = self.pick([V3, M])
        if family == "element_writes":
            if shape == V3:
                return shape, f"[{self.index(env, 3)}]", S
            return shape, f"[{self.index(env, 2)}, {self.index(env, 3)}]", S
        if family == "slice_writes":
            if shape == V3:
                return self._slice3()
            return shape, *self.pick([(f"[{self.index(env, 2)}]", V3), (f"[{self.index(env, 2)}]", S),
                                       (f"[:, {self.index(env, 3)}]", V2), ("[:, 1:]", S),
                                       ("[:, 0]", S), ("[0, 1:]", V2), ("[:]", M)])
        if family == "mask_writes":
            return shape, f"[{{t}} > {self.pick(['0.0', '0.2'])}]", S
        if family == "index_writes":
            broadcast = self.may("broadcast_writes", 0.5)
            if shape == V3:
                return shape, "[[0, 2]]", S if broadcast else V2
            return shape, "[[1, 0]]", V3 if broadcast else M
        return V3, self.pick(["[[0, 0, 2]]", "[[1, 1, 1]]", "[np.array([2, 2, 0])]"]), V3

    def _slice3(self):
        index, value = self.pick([("[1:]", V2), ("[:2]", V2), ("[0:2]", S), ("[:]", V3),
                                  ("[::2]", V2), ("[-2:]", V2)])
        return V3, index, value

    def owned_write(self, env):
        families = [f for f in ("element_writes", "slice_writes", "mask_writes", "index_writes",
                                "repeated_indices") if f in self.on]
        family = self.pick(families)
        self.used.add(family)
        shape, index, value = self.target(env, family)
        owned = [n for n in env.names(shape) if env.alone[n]
                 and (n not in env.rebound or self.may("carried_writes"))]
        stmts = []
        if owned and (self.chance(0.7) or env.in_loop):
            name = self.pick(owned)
        elif env.in_loop and not self.may("loop_writes"):
            return self.assign(env)
        else:
            name = self.fresh_name(env)
            init = self.pick([f"np.zeros({shape if len(shape) > 1 else shape[0]})",
                              f"np.ones({shape if len(shape) > 1 else shape[0]})"]
                             + [f"{n}.copy()" for n in env.names(shape)]
                             + [f"np.zeros_like({n})" for n in env.names(shape)]
                             + [f"1.0 * {n}" for n in env.names(shape)])
            stmts.append(Stmt(f"{name} = {init}"))
            self.bind(env, name, shape, "0.0 + 1.0")
        return self.write_into(env, name, index.replace("{t}", name), value, stmts)

    def write_into(self, env, name, index, value, stmts):
        env.written.add(name)
        e = self.value_of(env, name, value)
        if env.in_loop and value != S:
            e = f"np.tanh({e})"
        op = self.pick(["=", "=", "+=", "*=", "-="])
        if env.in_loop and op == "*=":
            e = f"np.cos({e})"
        stmts.append(Stmt(f"{name}{index} {op} {e}"))
        return stmts

    def value_of(self, env, name, shape):
        """The written value; it reads the array written into only under ``self_reads`` (class 2)."""
        if self.may("self_reads", 0.3):
            return self.expr(shape, 1)
        hidden = env.shapes.pop(name)
        try:
            return self.expr(shape, 1)
        finally:
            env.shapes[name] = hidden

    def param_write(self, env):
        params = [n for n in env.shapes if n in self.param_names and env.shapes[n] in (V3, M)
                  and n not in env.viewed]  # a view of it would see the write: refused
        if not params:
            return self.assign(env)
        name = self.pick(params)
        self.used.add("param_writes")
        shape = env.shapes[name]
        index, value = (f"[{self.index(env, 3)}]", S) if shape == V3 else \
            self.pick([(f"[{self.index(env, 2)}]", V3), (f"[1, {self.index(env, 3)}]", S)])
        return self.write_into(env, name, index, value, [])

    def alias(self, env):
        arrays = [n for n in env.shapes if env.shapes[n] != S]
        if not arrays:
            return self.assign(env)
        self.used.add("aliasing")
        src = self.pick(arrays)
        shape = env.shapes[src]
        name = self.fresh_name(env)
        view, vshape = self.pick([(src, shape)] + ([(f"{src}[0]", V3), (f"{src}[:, 1]", V2),
                                                   (f"{src}.T.T", M)] if shape == M else
                                                  [(f"{src}[1:]", V2), (f"{src}[:]", V3)]
                                                  if shape == V3 else [(f"{src}[::-1]", V2)]))
        env.shapes[name] = vshape
        env.alone[name] = False
        env.alone[src] = False
        env.viewed |= {name, src}
        stmts = [Stmt(f"{name} = {view}")]
        target = self.pick([name, src])
        if self.chance(0.5):
            stmts.append(self.aug_of(env, target))
        else:
            n = env.shapes[target][0]
            stmts.append(Stmt(f"{target}[{self.index(env, n)}] = {self.expr(S, 1)}"))
        return stmts

    def list_alias(self, env):
        """A list bound to a second name (``b = a``), joined (``a + [e]``), repeated (``a * 2``),
        extended (``a += [e]``), or bound to the list made from it on every trip of a loop: a
        list's adjoint added into another's, item by item (Numba's lists concatenate)."""
        self.used.add("aliasing")
        shape = self.pick([S, V3])
        first, second = self.fresh_name(env), self.fresh_name(env)
        env.lists |= {first, second}
        stmts = [Stmt(f"{first} = [{self.expr(shape, 1)}, {self.expr(shape, 1)}]")]
        form = self.pick(["alias", "alias", "joined", "repeated", "extended", "loop", "loop"])
        if form == "alias":
            stmts.append(Stmt(f"{second} = {first}"))
        elif form == "joined":  # Python's list +, * and += (passes/lists.py)
            stmts.append(Stmt(f"{second} = {first} + [{self.expr(shape, 1)}]"))
        elif form == "repeated":
            stmts.append(Stmt(f"{second} = {self.pick([f'{first} * 2', f'2 * {first}'])}"))
        elif form == "extended":
            stmts += [Stmt(f"{first} += [{self.expr(shape, 1)}]"), Stmt(f"{second} = {first}")]
        else:
            self.used.add("loops")
            k = self.loop_name(env)
            stmts.append(Block(f"for {k} in range(2):", [
                Stmt(f"{second} = [np.tanh({first}[0] * {first}[1]), {first}[1] + 0.5]"),
                Stmt(f"{first} = {second}")]))
        name = self.fresh_name(env)
        self.bind(env, name, shape, "0.0 + 1.0")
        stmts.append(Stmt(f"{name} = {second}[0] * {first}[1] + np.sum(np.array({first}))"))
        return stmts

    def unpack(self, env):
        self.used.add("tuple_unpack")
        same = [n for n in env.shapes if n not in env.trees]
        pairs = [(a, b) for a in same for b in same if a < b and env.shapes[a] == env.shapes[b]]
        if pairs and self.chance(0.4):
            a, b = self.pick(pairs)
            env.alone[a] = env.alone[b] = env.alone[a] and env.alone[b]
            return Stmt(f"{a}, {b} = {b}, {a}")
        p, q = self.fresh_name(env), None
        env.shapes[p] = S
        q = self.fresh_name(env)
        del env.shapes[p]
        sp, sq = self.pick(SHAPES), self.pick(SHAPES)
        ep, eq = self.expr(sp), self.expr(sq)
        self.bind(env, p, sp, ep)
        self.bind(env, q, sq, eq)
        return Stmt(f"{p}, {q} = {ep}, {eq}")

    def rebind(self, env):
        if env.in_loop:
            return self.assign(env)
        arrays = [n for n in env.shapes if env.shapes[n] != S and n not in env.trees]
        if not arrays:
            return self.assign(env)
        self.used.add("rebind_self")
        name = self.pick(arrays)
        shape = env.shapes[name]
        forms = [(name, shape), (f"{name}[0]", V3 if shape == M else S)]
        if shape == M:
            forms += [(f"{name}[:, 1]", V2), (f"{name}[:, -1][:, None][:, 0]", V2), (f"{name}.T.T", M)]
        if shape == V3:
            forms += [(f"{name}[1:]", V2)]
        others = [n for n in env.shapes if n != name and n not in env.trees and env.shapes[n] != shape]
        if others and self.chance(0.3):
            other = self.pick(others)
            env.shapes[name], env.shapes[other] = env.shapes[other], env.shapes[name]
            env.alone[name], env.alone[other] = env.alone[other], env.alone[name]
            return Stmt(f"{name}, {other} = {other}, {name}")
        text, new = self.pick(forms)
        env.shapes[name] = new
        env.alone[name] = False if new != S else env.alone[name]
        return Stmt(f"{name} = {text}")

    def branch(self, env):
        self.used.add("branches")
        header = f"if {self.cond()}:"
        inner = env.child()
        body = self.block(inner, self.rng.randint(1, 3))
        env.merge(inner)
        orelse = None
        if self.chance(0.5):
            inner = env.child()
            orelse = self.block(inner, self.rng.randint(1, 2))
            env.merge(inner)
        self.env = env
        return Block(header, body, orelse)

    def loop(self, env):
        self.used.add("loops")
        inner = env.child()
        inner.in_loop = True
        bound = self.rng.randint(2, 4)
        name = self.loop_name(env)
        pre = []
        kind = self.pick(["range", "range", "while"] + (["iter"] if "loop_iterables" in self.on else []))
        if kind == "range":
            inner.ints[name] = bound
            header = self.pick([f"for {name} in range({bound}):", f"for {name} in range(1, {bound}):",
                                f"for {name} in range({bound} - 1, -1, -2):"])
            outer = sorted(env.ints)
            if outer and self.chance(0.4):  # a triangular loop: its trips depend on the outer counter
                o = self.pick(outer)
                inner.ints[name] = env.ints[o]
                header = f"for {name} in range({o} + 1):"
        elif kind == "while":
            inner.ints[name] = bound + 1  # counted at the top of the body: 1..bound inside
            pre = [Stmt(f"{name} = 0")]
            extra = f" and {self.cond()}" if self.may("bool_conds", 0.5) else ""
            header = f"while {name} < {bound}{extra}:"
        else:
            header = self.iter_header(inner, name)
        body = self.block(inner, self.rng.randint(1, 3))
        if kind == "while":
            body = [Stmt(f"{name} += 1")] + body
        env.merge(inner)
        self.env = env
        loop = Block(header, body)
        return pre + [loop]

    def loop_name(self, env):
        """A loop index no enclosing loop uses (an inner loop must not rebind an outer counter)."""
        pool = LOOP_NAMES + (HYGIENE_LOOP_NAMES if "name_hygiene" in self.on else [])
        free = [n for n in pool if n not in env.shapes and n not in env.ints]
        if not free:
            self.counter += 1
            return f"i{self.counter}"
        name = self.pick(free)
        if name in HYGIENE_LOOP_NAMES:
            self.used.add("name_hygiene")
        return name

    def iter_header(self, inner, name):
        self.used.add("loop_iterables")
        mats, vecs = self.env.names(M), self.env.names(V3)
        options = []
        if mats:
            a = self.pick(mats)
            options += [(f"for {name} in {a}:", {name: V3}), (f"for k, {name} in enumerate({a}):",
                                                             {name: V3, "k": "int3"})]
        if vecs:
            v = self.pick(vecs)
            options += [(f"for {name} in reversed({v}):", {name: S}),
                        (f"for {name}, q2 in zip({v}, {self.pick(vecs)}):", {name: S, "q2": S})]
        if not options:
            inner.ints[name] = 3
            return f"for {name} in range(3):"
        header, binds = self.pick(options)
        for n, shape in binds.items():
            if shape == "int3":
                inner.ints[n] = 2
            else:
                inner.shapes[n] = shape
                inner.alone[n] = False
        return header

    def append_loop(self, env):
        self.used.update({"list_append", "loops"})
        name = self.fresh_name(env)
        index = self.loop_name(env)
        inner = env.child()
        inner.in_loop = True
        inner.ints[index] = 2
        self.env = inner
        item = f"np.tanh({self.expr(V3, 1)})"
        self.env = env
        stmts = [Stmt(f"{name}_list = []"),
                 Block(f"for {index} in range(2):", [Stmt(f"{name}_list.append({item})")]),
                 Stmt(f"{name} = np.stack({name}_list)")]
        self.bind(env, name, M, "0.0 + 1.0")
        return stmts

    def comprehension(self, env):
        """A value a comprehension builds: over a vector's items, a matrix's rows, a range, a zip,
        nested, or a dict's values; its target may shadow an outer name (it must not leak)."""
        self.used.add("comprehensions")
        name = self.fresh_name(env)
        vecs, mats = env.names(V3), env.names(M)
        forms = [self._comp_range, self._comp_nested, self._comp_dict]
        forms += [self._comp_items, self._comp_zip] if vecs else []
        forms += [self._comp_rows] if mats else []
        shape, text = self.pick(forms)(env, vecs, mats)
        self.env = env
        self.bind(env, name, shape, "0.0 + 1.0")
        return Stmt(f"{name} = {text}")

    def _comp_scope(self, env, binds):
        """The comprehension's scope: ``binds`` (name -> shape, or an int bound) over ``env``."""
        inner = env.child()
        for n, spec in binds.items():
            for table in (inner.shapes, inner.ints, inner.trees, inner.alone):
                table.pop(n, None)
            inner.lists.discard(n)
            if isinstance(spec, int):
                inner.ints[n] = spec
            else:
                inner.shapes[n], inner.alone[n] = spec, False
        self.env = inner
        return inner

    def _comp_target(self, env):
        return self.pick(["item", "t2", "v"] + [n for n in env.shapes if n not in env.trees][:2])

    def _comp_filter(self):
        return f" if {self.expr(S, 0)} > 0.0" if self.chance(0.4) else ""

    def _comp_items(self, env, vecs, mats):
        t = self._comp_target(env)
        self._comp_scope(env, {t: S})
        elt, cond = self.expr(S, 2), self._comp_filter()
        v = self.pick(vecs)
        return self.pick([(S, f"sum([{elt} for {t} in {v}{cond}])"), (S, f"sum({elt} for {t} in {v})"),
                          (S, f"max({elt} for {t} in {v})"), (V3, f"np.array([{elt} for {t} in {v}])")])

    def _comp_rows(self, env, vecs, mats):
        t = self._comp_target(env)
        self._comp_scope(env, {t: V3})
        elt = self.expr(V3, 2)
        a = self.pick(mats)
        return self.pick([(M, f"np.stack([{elt} for {t} in {a}])"),
                          (S, f"sum([np.sum({elt}) for {t} in {a}])")])

    def _comp_range(self, env, vecs, mats):
        i = self.pick(["i2", "k"])
        self._comp_scope(env, {i: 3})
        elt, cond = self.expr(S, 2), self._comp_filter()
        return self.pick([(V3, f"np.array([{elt} for {i} in range(3)])"),
                          (S, f"sum(({elt} for {i} in range(3){cond}), 0.5)")])

    def _comp_zip(self, env, vecs, mats):
        self._comp_scope(env, {"a2": S, "b2": S})
        elt = self.expr(S, 2)
        return S, f"sum([{elt} for a2, b2 in zip({self.pick(vecs)}, {self.pick(vecs)})])"

    def _comp_nested(self, env, vecs, mats):
        self._comp_scope(env, {"i2": 2, "j2": 3})
        return M, f"np.array([[{self.expr(S, 1)} for j2 in range(3)] for i2 in range(2)])"

    def _comp_dict(self, env, vecs, mats):
        self._comp_scope(env, {"i2": 2})
        elt = self.expr(V3, 1)
        return V3, f"sum({{f'k{{i2}}': {elt} for i2 in range(2)}}.values())"

    def jump(self, env):
        kind = self.pick(["break", "continue"] + (["return"] * 2 if "early_return" in self.on else []))
        self.used.add("early_return" if kind == "return" else "jumps")
        stmt = Stmt(kind) if kind != "return" else Stmt(f"return {self.expr(S, 1)}")
        return Block(f"if {self.cond()}:", [stmt])

    def call_helper(self, env):
        self.used.add("helpers")
        if not self.helpers or self.chance(0.3):
            self.make_helper()
        h = self.pick(self.helpers)
        values = [self.expr(shape, 1) for shape in h.shapes]
        if self.chance(0.3):  # by keyword, last first: the names the helper's transform gives
            values = [f"{p}={v}" for p, v in zip(h.params, values)][::-1]
        elif h.keyword_only:
            values[-1] = f"{h.params[-1]}={values[-1]}"
        args = ", ".join(values)
        name = self.fresh_name(env)
        self.bind(env, name, h.returns, "0.0 + 1.0")
        return Stmt(f"{name} = {h.name}({args})")

    def closure(self, env):
        """A nested def or lambda whose body reads the enclosing locals, and a call of it."""
        self.used.add("closures")
        self.counter += 1
        fname, shape, returns = f"inner{self.counter}", self.pick(SHAPES), self.pick(SHAPES)
        inner = env.child()
        inner.shapes["arg"], inner.alone["arg"] = shape, False
        saved, self.env = self.env, inner
        value = self.expr(returns, 2)
        self.env = saved
        made = Stmt(f"{fname} = lambda arg: {value}") if self.chance(0.5) else \
            Block(f"def {fname}(arg):", [Stmt(f"return {value}")])
        argument = self.expr(shape, 1)
        name = self.fresh_name(env)
        self.bind(env, name, returns, "0.0 + 1.0")
        return [made, Stmt(f"{name} = {fname}({argument})")]

    def make_helper(self):
        saved_env, saved_on, saved_ever = self.env, self.on, self.ever
        self.ever = set()
        env = Env()
        hygiene = self.pick([["seed", "saved"], ["count", "conj"]]) if "name_hygiene" in self.on \
            and self.chance(0.5) else []  # generated code's names, then its helpers'
        names = ["u", "c"] + hygiene
        names = names[-2:]
        shapes = [self.pick(SHAPES) for _ in names]
        for n, s in zip(names, shapes):
            env.shapes[n], env.alone[n] = s, False
        self.on = self.on - {"helpers", "param_writes", "pytrees"}
        body = self.block(env, self.rng.randint(1, 3))
        returns = self.pick(SHAPES)
        self.env = env
        body.append(Stmt(f"return {self.expr(returns, 2)}"))
        self.on, self.env, self.ever = saved_on, saved_env, saved_ever
        h = Helper(f"helper{len(self.helpers) + 1}", names, body, self.chance(0.3))
        h.shapes, h.returns = shapes, returns
        self.helpers.append(h)

    # -- the program -------------------------------------------------------
    def params(self, env):
        count = self.rng.randint(1, 3)
        pool = PARAM_NAMES + (HYGIENE_PARAMS if "name_hygiene" in self.on else [])
        params = []
        names = []
        while len(params) < count:
            name = self.pick(pool)
            if name in names or _derived_clash(name, names):
                continue
            names.append(name)
            if name in HYGIENE_PARAMS:
                self.used.add("name_hygiene")
            if self.may("pytrees", 0.25):
                params.append((name, self.tree(env, name)))
            else:
                shape = self.pick(SHAPES)
                params.append((name, shape))
                env.shapes[name], env.alone[name] = shape, False
        return params

    def tree(self, env, name):
        kind = self.pick(["dict", "tuple", "list"])
        items = [("w" if kind == "dict" else 0, self.pick(SHAPES)),
                 ("b" if kind == "dict" else 1, self.pick(SHAPES))]
        env.trees[name] = (kind, items)
        return (kind, items)

    def unpack_trees(self, env, params):
        """Statements reading each pytree parameter's leaves into names."""
        stmts = []
        for name, spec in params:
            if name not in env.trees:
                continue
            kind, items = spec
            leaves = []
            for _, shape in items:
                leaves.append(self.fresh_name(env))
                env.shapes[leaves[-1]], env.alone[leaves[-1]] = shape, False
            if kind == "dict":
                stmts += [Stmt(f"{leaf} = {name}[{key!r}]") for leaf, (key, _) in zip(leaves, items)]
            elif self.chance(0.5):
                stmts.append(Stmt(f"{', '.join(leaves)} = {name}"))
            else:
                stmts += [Stmt(f"{leaf} = {name}[{key}]") for leaf, (key, _) in zip(leaves, items)]
        return stmts

    def program(self):
        env = Env()
        self.env = env
        params = self.params(env)
        self.param_names = [n for n, _ in params]
        body = self.unpack_trees(env, params)
        self.env = env
        body += self.block(env, self.rng.randint(2, self.size))
        body.append(self.final_return(env))
        floats = list(range(len(params)))
        wrt = tuple(sorted(self.rng.sample(floats, self.rng.randint(1, len(floats)))))
        self.used.add("grad")
        return Program(self.seed, params, body, self.helpers, wrt, self.used)

    def final_return(self, env):
        self.env = env
        names = [n for n in env.shapes]
        self.rng.shuffle(names)
        terms = []
        for n in names[:4]:
            form = self.pick(["np.sum({})", "np.sum(np.sin({}))", "0.5 * np.sum(({}) ** 2)",
                              "np.mean(np.tanh({}))"])
            terms.append(form.format(n))
        return Return(terms or ["0.0"])


def generate(seed, families, size=6):
    """The program of ``seed`` using only ``families``."""
    return Gen(seed, families, size).program()

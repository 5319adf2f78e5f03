"""The built-in picture: a pure-Python layered graph layout (no Graphviz needed).

``svg.render_svg(graph)`` draws a :class:`~gradienti.viz.graph.Graph` as a standalone SVG
document in the manner of Graphviz's ``dot``; ``geometry.compute_layout(graph)`` gives the
drawing's geometry. This module places the boxes (``place``, on an abstract graph of sized
nodes); ``geometry.py`` sizes the boxes from their labels and routes the edges between them;
``svg.py`` writes the SVG.

The method is Sugiyama's, every step iterative and close to linear, so that a 100,000-node graph
takes seconds:

1. cycles are broken by reversing the back edges of a depth-first search (autograd graphs have
   none, but any ``Graph`` is accepted);
2. layers: the longest path from the sources, then every node with at least as many edges going
   down as coming in is pulled down next to its successors (a parameter then sits just above the
   op that uses it rather than at the top of the picture);
3. an edge spanning several layers gets a chain of virtual nodes, one per layer it crosses, so it
   runs through gaps in those layers and never through a box; an edge label is such a virtual
   node, as wide as its text (all ranks are doubled when there are labels, as in ``dot``);
4. the order inside each layer: two depth-first starting orders, then weighted-median sweeps down
   and up with adjacent-pair transposition, keeping the order with the fewest crossings (counted
   exactly with a Fenwick tree, O(E log V) per count): ``layer_order.py``;
5. positions along a layer: block coordinate descent on ``sum(weight * (x_tail - x_head)**2)``
   with the minimum gap between neighbours as constraints; each layer's step is exact, a weighted
   isotonic regression (pool adjacent violators), so boxes of any width never overlap, and
   long-edge chains weigh more and come out straight; a last sweep down puts each node under
   its inputs, weighted by how deep they are, so an op sits centred under its operands and a
   long chain runs straight past its side inputs;
6. each layer is a band as thick as its thickest box, with a gap after it that grows with how far
   its edges travel sideways.

Coordinates here are ``u`` along a layer and ``v`` across the layers (x and y for ``rankdir=TB``);
``geometry.py`` turns or flips them for BT, LR and RL.
"""

from __future__ import annotations

import gc
from collections import deque
from dataclasses import dataclass

from .layer_order import order_layers

NODE_SEP = 20.0  # between two boxes of a layer
VIRTUAL_SEP = 10.0  # between a box and an edge passing by, or two edges
RANK_SEP = 30.0  # the least gap between two layers
VIRTUAL_PER_NODE = 6  # long edges get at most this many virtual nodes per real node,
VIRTUAL_LEAST = 50_000  # or this many in all; beyond, the longest are drawn direct


@dataclass
class Placement:
    """Where ``place`` put things. Nodes ``0..n-1`` are the real ones, then the virtual nodes."""

    layer: list[int]  # per node
    u: list[float]  # per node: centre along its layer
    breadth: list[float]  # per node
    band_top: list[float]  # per layer
    band_bottom: list[float]  # per layer
    chains: list[list[int]]  # per edge: its nodes from the layout tail to the layout head
    flipped: bytearray  # per edge: 1 if the layout turned it around to break a cycle
    label_node: list[int]  # per edge: its label's virtual node, or -1
    crossings: int  # between adjacent layers, in the chosen order

    def centre(self, v: int) -> tuple[float, float]:
        r = self.layer[v]
        return self.u[v], (self.band_top[r] + self.band_bottom[r]) / 2.0


def place(
    breadth: list[float],
    depth: list[float],
    tails: list[int],
    heads: list[int],
    labels: list[tuple[float, float] | None],
) -> Placement:
    """Lay out nodes ``0..n-1`` of the given sizes (``breadth`` along a layer, ``depth`` across)
    joined by the edges ``tails[k] -> heads[k]`` (no self-loops); ``labels[k]`` is the size of
    edge ``k``'s label (breadth, depth) or None."""
    collect = gc.isenabled()
    gc.disable()  # millions of small lists: the cyclic collector would only slow this down
    try:
        return _place(breadth, depth, tails, heads, labels)
    finally:
        if collect:
            gc.enable()


def _place(breadth, depth, tails, heads, labels) -> Placement:
    n = len(breadth)
    m = len(tails)
    flipped = _break_cycles(n, tails, heads)
    lt = [heads[k] if flipped[k] else tails[k] for k in range(m)]
    lh = [tails[k] if flipped[k] else heads[k] for k in range(m)]
    rank = _assign_layers(n, lt, lh)
    if any(label is not None for label in labels):
        rank = [2 * r for r in rank]
    work = _Work(list(breadth), list(depth), rank)
    chains, label_node = _make_chains(work, lt, lh, labels)
    layers, crossings = order_layers(work)
    u = _place_along(layers, work)
    band_top, band_bottom = _place_across(layers, work, u)
    return Placement(
        work.layer, u, work.breadth, band_top, band_bottom, chains, flipped, label_node, crossings
    )


class _Work:
    """The arrays the steps share; index ``v`` is a node, real ones first. (The ordering step,
    in layer_order.py, reads ``layer``, ``up`` and ``down``: its ``LayeredGraph``.)"""

    def __init__(self, breadth: list[float], depth: list[float], layer: list[int]) -> None:
        n = len(breadth)
        self.breadth = breadth  # along the layer
        self.depth = depth  # across the layer
        self.layer = layer
        self.virtual = bytearray(n)
        self.up: list[list[int]] = [[] for _ in range(n)]  # neighbours in the layer above
        self.down: list[list[int]] = [[] for _ in range(n)]  # neighbours in the layer below

    def add(self, breadth: float, depth: float, layer: int) -> int:
        self.breadth.append(breadth)
        self.depth.append(depth)
        self.layer.append(layer)
        self.virtual.append(1)
        self.up.append([])
        self.down.append([])
        return len(self.breadth) - 1


# --------------------------------------------------------------------------- 1. cycles


def _break_cycles(n: int, tails: list[int], heads: list[int]) -> bytearray:
    """Mark the back edges of an iterative depth-first search (sources first)."""
    out: list[list[int]] = [[] for _ in range(n)]
    indegree = [0] * n
    for k, t in enumerate(tails):
        out[t].append(k)
        indegree[heads[k]] += 1
    flipped = bytearray(len(tails))
    state = bytearray(n)  # 0 unseen, 1 on the stack, 2 finished
    starts = [v for v in range(n) if indegree[v] == 0]
    starts.extend(range(n))
    for s in starts:
        if state[s]:
            continue
        state[s] = 1
        stack_v, stack_i = [s], [0]
        while stack_v:
            v, i = stack_v[-1], stack_i[-1]
            adjacent = out[v]
            if i < len(adjacent):
                stack_i[-1] = i + 1
                k = adjacent[i]
                w = heads[k]
                if state[w] == 1:
                    flipped[k] = 1
                elif state[w] == 0:
                    state[w] = 1
                    stack_v.append(w)
                    stack_i.append(0)
            else:
                state[v] = 2
                stack_v.pop()
                stack_i.pop()
    return flipped


# --------------------------------------------------------------------------- 2. layers


def _assign_layers(n: int, tails: list[int], heads: list[int]) -> list[int]:
    succ: list[list[int]] = [[] for _ in range(n)]
    indegree = [0] * n
    for t, h in zip(tails, heads):
        succ[t].append(h)
        indegree[h] += 1
    preds = indegree[:]
    rank = [0] * n
    queue = deque(v for v in range(n) if indegree[v] == 0)
    topo: list[int] = []
    while queue:
        v = queue.popleft()
        topo.append(v)
        r = rank[v] + 1
        for w in succ[v]:
            if rank[w] < r:
                rank[w] = r
            indegree[w] -= 1
            if indegree[w] == 0:
                queue.append(w)
    # Pull a node down next to its successors when at least as many of its edges go down as
    # come in: that shortens its out-edges by as much as it lengthens its in-edges (or more),
    # and its predecessors, visited later, may then follow it down.
    for v in reversed(topo):
        below = succ[v]
        if below and len(below) >= preds[v]:
            lowest = min(rank[w] for w in below) - 1
            if lowest > rank[v]:
                rank[v] = lowest
    base = min(rank, default=0)
    return [r - base for r in rank]


# --------------------------------------------------------------------------- 3. chains


def _make_chains(work: _Work, lt: list[int], lh: list[int], labels):
    """Virtual nodes for the edges spanning several layers (within a budget: a node feeding
    thousands of nodes far below would need millions; the longest of those are drawn direct)."""
    m = len(lt)
    n = len(work.breadth)
    spans = [work.layer[lh[k]] - work.layer[lt[k]] for k in range(m)]
    budget = max(VIRTUAL_PER_NODE * n, VIRTUAL_LEAST)
    routed = bytearray([1]) * m
    if sum(spans) - m > budget:
        routed = bytearray(m)
        used = 0
        for k in sorted(range(m), key=lambda k: (labels[k] is None, spans[k], k)):
            if used + spans[k] - 1 > budget:
                break
            used += spans[k] - 1
            routed[k] = 1
    chains: list[list[int]] = []
    label_node = [-1] * m
    up, down = work.up, work.down
    for k in range(m):
        t, h = lt[k], lh[k]
        chain = [t]
        if routed[k]:
            middle = work.layer[t] + spans[k] // 2 if labels[k] is not None else -1
            for r in range(work.layer[t] + 1, work.layer[h]):
                if r == middle:
                    label_node[k] = work.add(labels[k][0], labels[k][1], r)
                    chain.append(label_node[k])
                else:
                    chain.append(work.add(0.0, 0.0, r))
            chain.append(h)
            for a, b in zip(chain, chain[1:]):
                down[a].append(b)
                up[b].append(a)
        else:
            chain.append(h)
        chains.append(chain)
    return chains, label_node


# --------------------------------------------------------------------------- 5. along layers


def _gap(work: _Work, a: int, b: int) -> float:
    va, vb = work.virtual[a], work.virtual[b]
    if not va and not vb:
        return NODE_SEP
    if va and vb:
        return VIRTUAL_SEP * 0.8
    return VIRTUAL_SEP


def _place_along(layers: list[list[int]], work: _Work) -> list[float]:
    """Positions along the layers: minimise ``sum w (x_a - x_b)**2`` over the edges between
    adjacent layers, subject to the gaps, one layer at a time (each step is exact); then one
    sweep down that sets every node at the weighted mean of the nodes above it, so an op sits
    centred under its inputs and a long edge drops straight down from its tail."""
    total = len(work.layer)
    x = [0.0] * total
    offsets: list[list[float]] = []
    for layer in layers:
        off = [0.0] * len(layer)
        for j in range(1, len(layer)):
            a, b = layer[j - 1], layer[j]
            off[j] = off[j - 1] + (work.breadth[a] + work.breadth[b]) / 2.0 + _gap(work, a, b)
        offsets.append(off)
        shift = off[-1] / 2.0 if off else 0.0
        for j, v in enumerate(layer):
            x[v] = off[j] - shift
    edges = sum(len(d) for d in work.down)
    rounds = max(4, min(60, int(1_500_000 / (total + edges + 1))))
    nl = len(layers)
    for it in range(rounds):
        indices = range(nl) if it % 2 == 0 else range(nl - 1, -1, -1)
        moved = 0.0
        for r in indices:
            moved = max(moved, _relax(layers[r], offsets[r], work, x))
        if moved < 0.25:
            break
    # The last sweep weighs each input by how much it carries (the real nodes on the longest
    # path into it), so a deep chain runs straight down past its small side inputs.
    virtual = work.virtual
    height = [0] * total
    for layer in layers:
        for v in layer:
            for w in work.down[v]:
                h = height[v] + (0 if virtual[v] else 1)
                if height[w] < h:
                    height[w] = h
    for r in range(nl):
        _relax(layers[r], offsets[r], work, x, height)
    return x


def _relax(layer, off, work: _Work, x: list[float], height: list[int] | None = None) -> float:
    """Move one layer to its best place given its neighbours above and below (edges between
    virtual nodes weigh most, so long edges stay straight), or, given ``height``, given only
    its neighbours above, weighted by their height."""
    virtual, up, down = work.virtual, work.up, work.down
    targets = []
    weights = []
    for v in layer:
        sw = 0.01
        s = 0.01 * x[v]
        vv = virtual[v]
        for w in up[v]:
            if height is None:
                wt = (8.0 if virtual[w] else 2.0) if vv else (2.0 if virtual[w] else 1.0)
            else:
                wt = 1.0 + height[w]
            sw += wt
            s += wt * x[w]
        if height is None:
            for w in down[v]:
                wt = (8.0 if virtual[w] else 2.0) if vv else (2.0 if virtual[w] else 1.0)
                sw += wt
                s += wt * x[w]
        targets.append(s / sw)
        weights.append(sw)
    return _isotonic(layer, off, targets, weights, x)


def _isotonic(layer, off, targets, weights, x) -> float:
    """Weighted least squares to ``targets`` with ``x[j+1] - x[j] >= off[j+1] - off[j]``:
    pool adjacent violators on ``x - off``. Returns the largest move."""
    sums_w: list[float] = []
    sums: list[float] = []
    counts: list[int] = []
    for j in range(len(layer)):
        w = weights[j]
        s = w * (targets[j] - off[j])
        c = 1
        while sums_w and sums[-1] * w >= s * sums_w[-1]:
            w += sums_w.pop()
            s += sums.pop()
            c += counts.pop()
        sums_w.append(w)
        sums.append(s)
        counts.append(c)
    moved = 0.0
    j = 0
    for w, s, c in zip(sums_w, sums, counts):
        mean = s / w
        for _ in range(c):
            v = layer[j]
            new = mean + off[j]
            d = abs(new - x[v])
            if d > moved:
                moved = d
            x[v] = new
            j += 1
    return moved


# --------------------------------------------------------------------------- 6. across layers


def _place_across(layers, work, x) -> tuple[list[float], list[float]]:
    """Each layer is a band as thick as its thickest node; the gap after it grows with how
    far its edges travel sideways, so steep S-curves stay legible."""
    tops: list[float] = []
    bottoms: list[float] = []
    pos = 0.0
    for r, layer in enumerate(layers):
        thick = max((work.depth[v] for v in layer), default=0.0)
        tops.append(pos)
        bottoms.append(pos + thick)
        pos += thick
        if r + 1 < len(layers):
            slant = 0.0
            for v in layer:
                for w in work.down[v]:
                    d = abs(x[v] - x[w])
                    if d > slant:
                        slant = d
            pos += max(RANK_SEP, min(2.5 * RANK_SEP, 0.2 * slant))
    return tops, bottoms

"""Step 4 of the built-in layout (viz/layout.py): the order of the nodes inside each layer.

Two depth-first starting orders (from the sources, and backwards from the sinks), each improved
by weighted-median sweeps down and up with adjacent-pair transposition, as in Gansner et al.'s
``dot``; the order with the fewest crossings between adjacent layers wins. Crossings are counted
exactly (Barth, Juenger and Mutzel: inversions of the lower ends), with a sorted list or, for a
very wide layer, a Fenwick tree: O(E log V) per count. The effort (rounds and passes) shrinks
as the graph grows, so that a 100,000-node graph still takes seconds.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from typing import Protocol


class LayeredGraph(Protocol):
    """What ordering reads of layout.py's working arrays; index ``v`` is a node, real or virtual."""

    layer: list[int]  # per node: its layer
    up: list[list[int]]  # per node: its neighbours in the layer above
    down: list[list[int]]  # per node: its neighbours in the layer below


def _initial_order(work: LayeredGraph, forward: bool) -> list[list[int]]:
    """Layers filled in depth-first order from the sources (or, backwards, from the sinks)."""
    total = len(work.layer)
    nlayers = max(work.layer, default=-1) + 1
    layers: list[list[int]] = [[] for _ in range(nlayers)]
    nxt, prv = (work.down, work.up) if forward else (work.up, work.down)
    seen = bytearray(total)
    starts = [v for v in range(total) if not prv[v]]
    starts.extend(range(total))
    for s in starts:
        if seen[s]:
            continue
        seen[s] = 1
        layers[work.layer[s]].append(s)
        stack_v, stack_i = [s], [0]
        while stack_v:
            v, i = stack_v[-1], stack_i[-1]
            adjacent = nxt[v]
            if i < len(adjacent):
                stack_i[-1] = i + 1
                w = adjacent[i]
                if not seen[w]:
                    seen[w] = 1
                    layers[work.layer[w]].append(w)
                    stack_v.append(w)
                    stack_i.append(0)
            else:
                stack_v.pop()
                stack_i.pop()
    return layers


def _positions(layers: list[list[int]], total: int) -> list[int]:
    pos = [0] * total
    for layer in layers:
        for i, v in enumerate(layer):
            pos[v] = i
    return pos


def _count_pair(upper: list[int], lower: list[int], down, pos) -> int:
    """Crossings between two adjacent layers: inversions among the lower ends of the edges
    taken in the order of their upper ends (Barth, Juenger and Mutzel), counted with a sorted
    list, or a Fenwick tree for a very wide layer."""
    if len(upper) < 2 or len(lower) < 2:
        return 0
    crossings = 0
    if len(lower) <= 20_000:
        ends: list[int] = []
        for v in upper:
            below = down[v]
            if len(below) == 1:
                p = pos[below[0]]
                crossings += len(ends) - bisect_right(ends, p)
                insort(ends, p)
                continue
            targets = sorted(pos[w] for w in below)
            for p in targets:
                crossings += len(ends) - bisect_right(ends, p)
            for p in targets:
                insort(ends, p)
        return crossings
    size = len(lower)
    tree = [0] * (size + 1)
    seen = 0
    for v in upper:
        targets = sorted(pos[w] for w in down[v])
        for p in targets:
            i = p + 1  # entries so far with a position greater than p cross this edge
            not_greater = 0
            while i > 0:
                not_greater += tree[i]
                i -= i & -i
            crossings += seen - not_greater
        for p in targets:
            i = p + 1
            while i <= size:
                tree[i] += 1
                i += i & -i
        seen += len(targets)
    return crossings


def _count_all(layers, work) -> int:
    pos = _positions(layers, len(work.layer))
    return sum(_count_pair(a, b, work.down, pos) for a, b in zip(layers, layers[1:]))


def _median(values: list[int]) -> float:
    values.sort()
    k = len(values)
    mid = k // 2
    if k % 2:
        return float(values[mid])
    if k == 2:
        return (values[0] + values[1]) / 2.0
    left = values[mid - 1] - values[0]
    right = values[-1] - values[mid]
    if left + right == 0:
        return (values[mid - 1] + values[mid]) / 2.0
    return (values[mid - 1] * right + values[mid] * left) / (left + right)


def _sweep(layers, pos, reference, indices) -> None:
    """Reorder each layer by the weighted median of its neighbours in the reference layer;
    nodes with no such neighbour keep their place."""
    for r in indices:
        layer = layers[r]
        if len(layer) < 2:
            continue
        movable = []
        free_slots = []
        for i, v in enumerate(layer):
            nbrs = reference[v]
            if nbrs:
                movable.append((_median([pos[w] for w in nbrs]), i, v))
                free_slots.append(i)
        if len(movable) < 2:
            continue
        movable.sort()
        for slot, (_, _, v) in zip(free_slots, movable):
            layer[slot] = v
            pos[v] = slot


def _pair_crossings(a: list[int], b: list[int]) -> tuple[int, int]:
    """For sorted neighbour positions of two nodes: crossings with the first node left of the
    second, and with it right of the second."""
    if not a or not b:
        return 0, 0
    left_first = right_first = 0
    nb = len(b)
    for p in a:
        left_first += bisect_left(b, p)
        right_first += nb - bisect_right(b, p)
    return left_first, right_first


def _transpose(layers, pos, work, passes: int, dirty: list[bool], ties: bool) -> None:
    """Swap neighbours in a layer while that removes crossings (or, with ``ties``, keeps
    their number: a way out of a local minimum)."""
    up, down = work.up, work.down
    for _ in range(passes):
        improved = False
        for r, layer in enumerate(layers):
            if len(layer) < 2 or not dirty[r]:
                continue
            for j in range(len(layer) - 1):
                v, w = layer[j], layer[j + 1]
                keep = swap = 0
                for side in (up, down):
                    a, b = side[v], side[w]
                    if len(a) == 1 and len(b) == 1:
                        pa, pb = pos[a[0]], pos[b[0]]
                        keep += pa > pb
                        swap += pa < pb
                    elif a and b:
                        c1, c2 = _pair_crossings(
                            sorted(pos[q] for q in a), sorted(pos[q] for q in b)
                        )
                        keep += c1
                        swap += c2
                if swap < keep or (ties and swap == keep and keep > 0):
                    layer[j], layer[j + 1] = w, v
                    pos[v], pos[w] = j + 1, j
                    improved = improved or swap < keep
        if not improved:
            break


def order_layers(work: LayeredGraph) -> tuple[list[list[int]], int]:
    """The order inside each layer: the better of two depth-first orders, each improved by
    median sweeps and transpositions (as in Gansner et al.'s dot), the best order seen."""
    total = len(work.layer)
    starts = [_initial_order(work, forward) for forward in (True, False)]
    counts = [_count_all(layers, work) for layers in starts]
    if min(counts) == 0 or total == 0:
        return starts[counts.index(min(counts))], min(counts)
    if total <= 3_000:
        rounds, passes = 24, 8
    elif total <= 30_000:
        rounds, passes = 8, 2
    else:  # a big graph: one start, a few rounds
        rounds, passes = (4 if total <= 200_000 else 2), 1
        starts = [starts[counts.index(min(counts))]]
        counts = [min(counts)]
    best, best_count = starts[0], -1
    for layers, count in zip(starts, counts):
        found, found_count = _improve(work, layers, count, rounds, passes)
        if best_count < 0 or found_count < best_count:
            best, best_count = found, found_count
        if best_count == 0:
            break
    return best, best_count


def _improve(work: LayeredGraph, layers, count: int, rounds: int, passes: int):
    """Alternate median sweeps down and up, each followed by transpositions (every other pair
    of rounds also swapping on ties); give back the best order seen and its crossings."""
    best, best_count = [list(layer) for layer in layers], count
    pos = _positions(layers, len(work.layer))
    nl = len(layers)
    stale = 0
    for it in range(rounds):
        if it % 2 == 0:
            _sweep(layers, pos, work.up, range(1, nl))
        else:
            _sweep(layers, pos, work.down, range(nl - 2, -1, -1))
        pair_counts = [_count_pair(a, b, work.down, pos) for a, b in zip(layers, layers[1:])]
        dirty = [False] * nl
        for r, c in enumerate(pair_counts):
            if c:
                dirty[r] = dirty[r + 1] = True
        _transpose(layers, pos, work, passes, dirty, it % 4 >= 2)
        count = sum(_count_pair(a, b, work.down, pos) for a, b in zip(layers, layers[1:]))
        if count < best_count:
            best, best_count = [list(layer) for layer in layers], count
            stale = 0
            if count == 0:
                break
        else:
            stale += 1
            if stale >= 6:
                break
    return best, best_count

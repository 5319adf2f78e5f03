"""Reused scratch buffers for the convolution's temporaries on plain arrays.

A convolution's temporaries are large (im2col's columns are ``prod(kernel)`` times the input)
and live only during one call. Allocated fresh on every call, they are memory the C library
gives back to the kernel once freed (glibc trims the top of its heap and unmaps large blocks),
so the next call touches new pages: measured on the issue's layer (64, 16, 14, 14) -> 32
channels, a training step (forward, backward) page-faulted ~2400-2900 times (~10 MB), PyTorch's
not once, and on a loaded machine those faults cost more than the arithmetic.

So each thread keeps one block of memory per *purpose* (the padded input, the columns, ...),
as large as the largest request so far, and hands out its first bytes as an array of the shape
asked for: layers of different sizes (a CNN's convolutions) share it without reallocating. At
most one block per purpose is held, the size of that purpose's largest use.

A scratch array never leaves the function that asked for it (never saved, never returned): the
next request for the same purpose in the same thread reuses its memory. Threads have their own.

``kept`` is for an array that its caller keeps (the forward's columns, saved for the weight's
gradient): a pool of blocks per purpose, where a block is reused only once nothing refers to
it any more (no saved columns, no view of them: its reference count says so), so steady
training steps reuse the same few blocks.

Blocks over ``MAX_KEPT_BYTES`` are never held (a large network's first layers can need hundreds
of MB of columns): those requests get a fresh array, as before, and give the memory back.
"""

from __future__ import annotations

import sys
import threading

from ..backend import xp

MAX_KEPT_BYTES = 32 << 20  # the largest block held between calls
POOL_BLOCKS = 8  # blocks per purpose in a ``kept`` pool (layers whose columns are alive at once)

_local = threading.local()


def _blocks() -> dict:
    blocks = getattr(_local, "blocks", None)
    if blocks is None:
        blocks = _local.blocks = {}
    return blocks


def _take(purpose: str, shape: tuple, dtype):
    """The first bytes of this thread's block for ``purpose`` as an array, and whether the block
    is new (its bytes are then zero); ``(block, last layout)`` entries in ``_blocks``."""
    dtype = xp.dtype(dtype)
    size = _bytes(shape, dtype)
    if size > MAX_KEPT_BYTES:  # not held: a fresh zeroed array, as if the block were new
        return [None, None], xp.zeros(shape, dtype=dtype), True
    blocks = _blocks()
    entry = blocks.get(purpose)
    fresh = entry is None or entry[0].size < size
    if fresh:
        entry = blocks[purpose] = [xp.zeros(max(size, 1), dtype=xp.uint8), None]
    return entry, entry[0][:size].view(dtype).reshape(shape), fresh


def scratch(purpose: str, shape: tuple, dtype):
    """An uninitialised array of ``shape`` and ``dtype``: this thread's block for ``purpose``."""
    entry, array, _fresh = _take(purpose, shape, dtype)
    entry[1] = None  # its contents follow no layout now (see zero_bordered)
    return array


def zero_bordered(purpose: str, shape: tuple, dtype, layout):
    """An array whose entries outside the region its caller writes are zero. The caller writes
    only that region, the same one for the same ``(shape, dtype, layout)`` (``layout`` says where
    it lies), so the zeros stay zero while the block is reused for the same key; the block is
    zeroed again when the key changes."""
    entry, array, fresh = _take(purpose, shape, dtype)
    key = (shape, array.dtype, layout)
    if not fresh and entry[1] != key:
        array.fill(0)
    entry[1] = key
    return array


def kept(purpose: str, shape: tuple, dtype):
    """An uninitialised array of ``shape`` and ``dtype`` that the caller may keep: in a block of
    this thread's pool for ``purpose`` that nothing refers to any more, else in a new block
    (pooled while the pool has room)."""
    dtype = xp.dtype(dtype)
    size = _bytes(shape, dtype)
    if size > MAX_KEPT_BYTES:
        return xp.empty(shape, dtype=dtype)
    pools = getattr(_local, "pools", None)
    if pools is None:
        pools = _local.pools = {}
    pool = pools.setdefault(purpose, [])
    for index in range(len(pool)):
        # References: the pool's list, ``block`` here and getrefcount's argument. Any array
        # made from the block (the columns a node saved, a view of them) adds one.
        block = pool[index]
        if block.size >= size and sys.getrefcount(block) == _FREE_REFERENCES:
            return block[:size].view(dtype).reshape(shape)
    block = xp.empty(max(size, 1), dtype=xp.uint8)
    if len(pool) < POOL_BLOCKS:
        pool.append(block)
    return block[:size].view(dtype).reshape(shape)


def _bytes(shape: tuple, dtype) -> int:
    size = dtype.itemsize
    for extent in shape:
        size *= extent
    return size


def _free_references() -> int:
    """What ``sys.getrefcount`` says of a pooled block that nothing else refers to (measured
    once, as ``kept`` asks it: the interpreter's own count of the temporaries varies)."""
    pool = [xp.empty(1, dtype=xp.uint8)]
    for index in range(len(pool)):
        block = pool[index]
        return sys.getrefcount(block)


_FREE_REFERENCES = _free_references()


def release_all() -> None:
    """Drop this thread's blocks (a program that wants the memory back; tests start afresh)."""
    _blocks().clear()
    getattr(_local, "pools", {}).clear()

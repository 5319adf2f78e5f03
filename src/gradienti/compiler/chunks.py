"""Long programs as chunks: CPython compiles one function in time that grows faster than its
length (and runs a function of many thousand locals slower per line), so a trace of more
than ``CHUNK_LINES`` lines is written as functions of at most that many lines that keep the
values in two lists instead of locals: ``S`` (the forward's names: slots, casts, per-call
nodes) and ``G`` (the gradients, by slot). The lines are the same statements, in the same
order: the values and gradients are the same, bit for bit."""

from __future__ import annotations

import re

CHUNK_LINES = 600

_FORWARD_NAME = re.compile(r"\b(s\d+|a\d+_\d+|m\d+)\b")
_GRADIENT = re.compile(r"\bg(\d+)\b")
_CELL = re.compile(r"\b([kn]\d+)\b")


def chunked_source(cells, parameters, forward_lines, backward_lines) -> str:
    """The source of ``_make`` (see program.py) with the forward and backward in chunks."""
    index: dict[str, int] = {}
    # (the bound objects too are read from one list, K: thousands of closure cells are
    # what makes compile() slow)
    cell_index = {name: position for position, (name, _) in enumerate(cells)}

    def to_list(line: str) -> str:
        line = _FORWARD_NAME.sub(lambda m: f"S[{index.setdefault(m.group(1), len(index))}]", line)
        line = _CELL.sub(lambda m: f"K[{cell_index[m.group(1)]}]", line)
        return _GRADIENT.sub(lambda m: f"G[{m.group(1)}]", line)

    body = [to_list(line) for line in forward_lines[:-1]]
    forward_return = to_list(forward_lines[-1])
    entry = [f"{to_list(name)} = {name}" for name in parameters]
    backward_prefix, backward_body, backward_return = [], [], ""
    if backward_lines:
        lines = [to_list(line) for line in backward_lines]
        first_block = next((i for i, line in enumerate(lines) if line.startswith("if ")), None)
        if first_block is None:
            first_block = len(lines) - 1
        backward_prefix = [line for line in lines[:first_block] if not line.endswith(" = None")]
        backward_body = lines[first_block:-1]
        backward_return = lines[-1]
    gradient_count = 1 + max(
        (int(m.group(1)) for line in backward_lines for m in _GRADIENT.finditer(line)), default=0
    )

    source = ["def _make(*K):"]
    forward_chunks = _chunks(body, top_level=lambda line: True)
    for number, chunk in enumerate(forward_chunks):
        source.append(f"    def forward_{number}(S):")
        source.extend(f"        {line}" for line in chunk)
    source.append(f"    def forward({', '.join(parameters)}):")
    source.append(f"        S = [None] * {len(index)}")
    source.extend(f"        {line}" for line in entry)
    source.extend(f"        forward_{number}(S)" for number in range(len(forward_chunks)))
    source.append(f"        {forward_return}")
    if backward_lines:
        backward_chunks = _chunks(backward_body, top_level=lambda line: line.startswith("if "))
        for number, chunk in enumerate(backward_chunks):
            source.append(f"    def backward_{number}(S, G):")
            source.extend(f"        {line}" for line in chunk)
        source.append("    def backward(tape, grads):")
        source.append(f"        S = [None] * {len(index)}")
        source.append(f"        G = [None] * {gradient_count}")
        source.extend(f"        {line}" for line in backward_prefix)
        source.extend(f"        backward_{number}(S, G)" for number in range(len(backward_chunks)))
        source.append(f"        {backward_return}")
    else:
        source.append("    backward = None")
    source.append("    return forward, backward")
    return "\n".join(source) + "\n"


def _chunks(lines: list[str], top_level) -> list[list[str]]:
    """``lines`` cut into pieces of about CHUNK_LINES, only before a top-level statement."""
    chunks: list[list[str]] = [[]]
    for line in lines:
        if len(chunks[-1]) >= CHUNK_LINES and top_level(line):
            chunks.append([])
        chunks[-1].append(line)
    return [chunk if chunk else ["pass"] for chunk in chunks]

"""Scenarios run on gradienti and on torch, compared by what they record.

A scenario is ``scenario(lib, record)``: it runs code on ``lib`` (gradienti or torch) and calls
``record(*values)`` with what it sees; tensors are recorded as lists of floats. ``outcome``
adds the warnings (message, and the file each points at) and the error raised (class and
message; gradienti's without its hint); ``same_as_torch`` runs both and compares, floats
within float32 rounding.
"""

import math
import os
import warnings

import pytest
from same_outcome import pytorch_text

import gradienti

torch = pytest.importorskip("torch")


def plain(value):
    """A record entry without tensors: tensors become lists of floats, containers recurse."""
    if isinstance(value, (gradienti.Tensor, torch.Tensor)):
        return [float(v) for v in value.detach().reshape(-1).tolist()]
    if isinstance(value, (tuple, list)):
        return type(value)(plain(v) for v in value)
    return value


def outcome(scenario, lib) -> list:
    """What ``scenario(lib, record)`` recorded, then the error it raised, then its warnings."""
    events = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            scenario(lib, lambda *entry: events.append(plain(entry)))
        except Exception as error:  # noqa: BLE001 - the error is the outcome being compared
            message = pytorch_text(str(error)) if lib is gradienti else str(error)
            events.append(("raised", type(error).__name__, message))
    for warning in caught:
        message = str(warning.message)
        message = pytorch_text(message) if lib is gradienti else message
        if warning.category is UserWarning and "will create a reference cycle" not in message:
            events.append(("warned", message, os.path.basename(warning.filename)))
    return events


def close(ours, theirs) -> bool:
    """Equal records, floats within float32 rounding."""
    if isinstance(ours, float) and isinstance(theirs, float):
        return math.isclose(ours, theirs, rel_tol=1e-4, abs_tol=1e-6)
    if isinstance(ours, (tuple, list)) and type(ours) is type(theirs):
        return len(ours) == len(theirs) and all(map(close, ours, theirs))
    return ours == theirs


def same_as_torch(scenario) -> list:
    """gradienti's record of ``scenario``, checked equal to torch's."""
    ours = outcome(scenario, gradienti)
    theirs = outcome(scenario, torch)
    assert close(ours, theirs), (ours, theirs)
    return ours

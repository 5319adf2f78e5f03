"""Who draws the picture: graphviz-pure, Graphviz's dot, or the built-in SVG layout.

``render_graph(graph, format)`` returns the picture as bytes, trying in order:

1. ``graphviz-pure``: the program the optional extra ``pip install 'gradienti[viz]'``
   installs beside the Python interpreter (a Rust port of Graphviz with ``dot``'s command line).
   It is looked for in this interpreter's scripts folder, then the user scripts folder
   (``pip install --user``), then on PATH. It writes svg and png, not pdf (as of 0.2.2; the
   formats a program knows are read from its ``-T?`` answer).
2. ``dot`` on PATH (a system Graphviz): every format.
3. The built-in pure-Python layered layout (``svg.render_svg``): svg only, always there.

Each program gets the DOT source on stdin as ``PROGRAM -T<format>`` and writes the picture to
stdout. A png is drawn at ``PNG_DPI`` (``-Gdpi=192``: twice Graphviz's 96, so the lesson's
picture stays sharp on a high-density screen) unless the source sets ``dpi`` or ``resolution``
itself (``Dot.attr(dpi=...)``), which the command line would override. If one fails, a warning
says so and the next one is tried. The formats ``dot`` and ``gv`` are the DOT source itself,
whoever is installed.

To choose instead: the ``renderer`` argument of ``Dot.render``/``Dot.pipe``, or the environment
variable ``GRADIENTI_VIZ_RENDERER``, set to ``builtin``, ``dot``, ``graphviz-pure`` or ``auto``
(the order above; the default). ``find_renderer(format)`` says who would draw.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sysconfig
import warnings
from dataclasses import dataclass

from .dot_source import to_dot
from .svg import render_svg

__all__ = [
    "FORMATS",
    "RENDERER_ENV",
    "Renderer",
    "builtin_svg",
    "candidates",
    "find_dot",
    "find_graphviz_pure",
    "find_renderer",
    "normalize_format",
    "render_graph",
]

FORMATS = ("svg", "png", "pdf", "dot", "gv")
SOURCE_FORMATS = frozenset({"dot", "gv"})
RENDERER_ENV = "GRADIENTI_VIZ_RENDERER"
RENDERER_CHOICES = ("auto", "graphviz-pure", "dot", "builtin")
GRAPHVIZ_PURE = "graphviz-pure"
DEFAULT_TIMEOUT = 60.0  # seconds a program may take to draw
PROBE_TIMEOUT = 10.0  # seconds for ``PROGRAM -T?``
PNG_DPI = 192  # pixels per inch of a png: 2x Graphviz's default of 96
# A source that chooses its own resolution: a graph attribute ``dpi=`` or ``resolution=``, in a
# ``graph [...]`` statement (outside its quoted values) or a ``k=v`` line; a label that says
# "dpi=3" sets nothing.
_SETS_RESOLUTION = re.compile(
    r'^\s*(?:graph\s*\[(?:"(?:[^"\\]|\\.)*"|[^"\]\n])*?)?(?<![\w."])(?:dpi|resolution)\s*=',
    re.MULTILINE,
)


@dataclass(frozen=True)
class Renderer:
    """``name``: "graphviz-pure", "dot", "builtin", or "source" (dot/gv: no drawing needed);
    ``program``: the program's path, for the first two."""

    name: str
    program: str | None = None


def normalize_format(format: str) -> str:
    fmt = str(format).lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {format!r}: use one of {', '.join(FORMATS)}")
    return fmt


def missing_graphviz_message(fmt: str) -> str:
    if fmt == "pdf":
        return (
            "rendering pdf needs Graphviz's dot program on PATH (graphviz-pure, from "
            "pip install 'gradienti[viz]', writes svg and png but not pdf); svg works without it"
        )
    return (
        f"rendering {fmt} needs Graphviz: pip install 'gradienti[viz]' (graphviz-pure) or "
        "install Graphviz's dot; svg works without it"
    )


def chosen_renderer(renderer: str | None = None) -> str:
    """The renderer asked for: the argument, else ``GRADIENTI_VIZ_RENDERER``, else auto."""
    source = "renderer"
    if renderer is None:
        renderer = os.environ.get(RENDERER_ENV, "")
        source = RENDERER_ENV
    choice = str(renderer).strip().lower() or "auto"
    if choice not in RENDERER_CHOICES:
        raise ValueError(
            f"{source}={renderer!r} is not a renderer: use one of {', '.join(RENDERER_CHOICES)}"
        )
    return choice


# ------------------------------------------------------------------------ the programs


def _scripts_folders() -> list[str]:
    """Where pip puts programs for this interpreter: its scripts folder, then the user one."""
    folders = []
    with contextlib.suppress(KeyError, ValueError):
        folders.append(sysconfig.get_path("scripts"))
    with contextlib.suppress(AttributeError, KeyError, ValueError):
        folders.append(sysconfig.get_path("scripts", sysconfig.get_preferred_scheme("user")))
    return [folder for folder in folders if folder]


def find_graphviz_pure() -> str | None:
    """The ``graphviz-pure`` program beside this Python, else on PATH, else None."""
    for folder in _scripts_folders():
        found = shutil.which(GRAPHVIZ_PURE, path=folder)
        if found:
            return found
    return shutil.which(GRAPHVIZ_PURE)


def find_dot() -> str | None:
    return shutil.which("dot")


_formats_cache: dict[tuple, frozenset | None] = {}


def program_formats(program: str) -> frozenset | None:
    """The output formats ``program -T?`` lists, or None when it does not say."""
    try:
        status = os.stat(program)
    except OSError:
        return None
    key = (program, status.st_mtime_ns, status.st_size)
    if key not in _formats_cache:
        formats = None
        try:
            completed = subprocess.run(
                [program, "-T?"],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=PROBE_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            pass
        else:
            text = (completed.stderr + completed.stdout).decode("utf-8", "replace")
            _, found, listed = text.partition("Use one of:")
            if found:
                formats = frozenset(word.split(":")[0] for word in listed.split())
        _formats_cache[key] = formats
    return _formats_cache[key]


def _writes(program: str, fmt: str) -> bool:
    formats = program_formats(program)
    return formats is None or fmt in formats


# ---------------------------------------------------------------------------- the chain


def candidates(format: str = "svg", renderer: str | None = None) -> list[Renderer]:
    """The renderers that would be tried for ``format``, in order (raises if there is none)."""
    fmt = normalize_format(format)
    if fmt in SOURCE_FORMATS:
        return [Renderer("source")]
    choice = chosen_renderer(renderer)
    if choice == "builtin":
        if fmt != "svg":
            raise RuntimeError(
                f"the built-in renderer (asked for) writes svg only; "
                f"{missing_graphviz_message(fmt)}"
            )
        return [Renderer("builtin")]
    if choice != "auto":
        program = find_graphviz_pure() if choice == GRAPHVIZ_PURE else find_dot()
        if program is None:
            raise RuntimeError(
                f"the renderer {choice!r} was asked for, but no program named {choice!r} was "
                "found" + (" (pip install 'gradienti[viz]')" if choice == GRAPHVIZ_PURE else "")
            )
        return [Renderer(choice, program)]
    chain = []
    program = find_graphviz_pure()
    if program is not None and _writes(program, fmt):
        chain.append(Renderer(GRAPHVIZ_PURE, program))
    program = find_dot()
    if program is not None and _writes(program, fmt):
        chain.append(Renderer("dot", program))
    if fmt == "svg":
        chain.append(Renderer("builtin"))
    if not chain:
        raise RuntimeError(missing_graphviz_message(fmt))
    return chain


def find_renderer(format: str = "svg", renderer: str | None = None) -> Renderer:
    """Who would draw ``format`` now: the first of ``candidates``."""
    return candidates(format, renderer)[0]


def render_graph(
    graph,
    format: str = "svg",
    *,
    source: str | None = None,
    renderer: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> bytes:
    """``graph`` drawn in ``format``, as bytes (``source``: its DOT text, if already made)."""
    fmt = normalize_format(format)
    chain = candidates(fmt, renderer)
    if chain[0].name == "source":
        return _source(graph, source).encode("utf-8")
    failures = []
    for position, candidate in enumerate(chain):
        try:
            if candidate.name == "builtin":
                return _builtin_bytes(graph)
            return run_program(candidate.program, fmt, _source(graph, source), timeout)
        except RuntimeError as error:
            if len(chain) == 1:
                raise
            failures.append(f"{candidate.name}: {error}")
            if position + 1 < len(chain):
                warnings.warn(
                    f"{candidate.name} could not draw the graph ({error}); "
                    f"trying {chain[position + 1].name}",
                    RuntimeWarning,
                    stacklevel=2,
                )
    raise RuntimeError(f"could not render {fmt}: " + "; ".join(failures))


def _source(graph, source: str | None) -> str:
    if source is not None:
        return source
    return to_dot(graph)


def run_program(program: str, fmt: str, source: str, timeout: float = DEFAULT_TIMEOUT) -> bytes:
    """``program -T<fmt>`` with ``source`` on stdin: what it writes to stdout."""
    name = os.path.basename(program)
    command = [program, f"-T{fmt}"]
    if fmt == "png" and not _SETS_RESOLUTION.search(source):
        command.append(f"-Gdpi={PNG_DPI}")
    try:
        completed = subprocess.run(
            command,
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{name} -T{fmt} took longer than {timeout} s") from None
    except OSError as error:
        raise RuntimeError(f"could not run {program}: {error}") from error
    if completed.returncode != 0 or not completed.stdout:
        message = completed.stderr.decode("utf-8", "replace").strip() or "no output"
        raise RuntimeError(f"{name} -T{fmt} failed (exit status {completed.returncode}): {message}")
    return completed.stdout


def builtin_svg(graph) -> str:
    """The built-in pure-Python layered layout (layout.py, svg.py) as SVG text."""
    return render_svg(graph)


def _builtin_bytes(graph) -> bytes:
    try:
        return builtin_svg(graph).encode("utf-8")
    except RuntimeError:
        raise
    except Exception as error:
        raise RuntimeError(
            f"the built-in layout failed: {type(error).__name__}: {error}"
        ) from error

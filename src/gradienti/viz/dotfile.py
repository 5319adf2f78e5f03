"""The ``Dot`` that holds a ``Graph``, saves its DOT text (dot_source.py) and renders it
(render.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from html import escape as xml_escape

from . import render as renderers
from .dot_source import quote, to_dot
from .graph import Graph

__all__ = ["Dot", "quote", "to_dot"]

# -------------------------------------------------------------------------------- Dot

DEFAULT_FILENAME = "Digraph.gv"  # the graphviz package's default


class Dot:
    """A drawn graph: ``.graph`` (the ``Graph``), ``.source`` (DOT text), ``.save()``,
    ``.render()``, ``.pipe()``, and a picture in Jupyter that never raises.

    ``render``/``pipe`` take ``renderer="graphviz-pure" | "dot" | "builtin" | "auto"`` to
    choose who draws (default: the environment variable ``GRADIENTI_VIZ_RENDERER``, else
    ``auto``: graphviz-pure, then dot, then the built-in SVG layout).
    """

    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    @property
    def source(self) -> str:
        return to_dot(self.graph)

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        try:
            return (
                f"<gradienti.viz.Dot: {len(self.graph.nodes)} nodes, {len(self.graph.edges)} edges>"
            )
        except Exception:
            return "<gradienti.viz.Dot>"

    def save(self, filename=None, directory=None) -> str:
        """Write the DOT source to ``filename`` (default ``Digraph.gv``); return its path."""
        path = _path(filename, directory)
        _write(path, self.source.encode("utf-8"))
        return path

    def pipe(self, format: str = "svg", *, renderer=None, timeout=None) -> bytes:
        """The picture as bytes: svg, png, pdf, or dot/gv (the DOT source itself)."""
        return renderers.render_graph(
            self.graph,
            format,
            source=self.source,
            renderer=renderer,
            timeout=renderers.DEFAULT_TIMEOUT if timeout is None else timeout,
        )

    def render(
        self,
        filename=None,
        directory=None,
        format: str | None = None,
        cleanup: bool = False,
        view: bool = False,
        *,
        renderer=None,
        timeout=None,
    ) -> str:
        """Draw the graph into a file and return its path.

        As in the graphviz package, ``render("lesson")`` keeps the DOT source in ``lesson``
        and writes the picture to ``lesson.svg`` (``cleanup=True``: no source file). A name
        that already ends in the format (``render("lesson.png")``) is the picture itself, and
        then no source file is written. ``format`` defaults to the name's ending when that is
        svg, png or pdf, else svg. ``view=True`` opens the picture with the system's viewer.
        """
        path = _path(filename, directory)
        if format is None:
            ending = os.path.splitext(path)[1].lower().lstrip(".")
            format = ending if ending in ("svg", "png", "pdf") else "svg"
        fmt = renderers.normalize_format(format)
        picture = self.pipe(fmt, renderer=renderer, timeout=timeout)
        if path.lower().endswith("." + fmt):
            output = path
        else:
            output = f"{path}.{fmt}"
            if not cleanup:
                _write(path, self.source.encode("utf-8"))
        _write(output, picture)
        if view:
            _open_in_viewer(output)
        return output

    # -- Jupyter
    def _repr_svg_(self) -> str:
        try:
            return self.pipe("svg").decode("utf-8")
        except Exception as error:
            return _error_svg(error)

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs) -> dict:
        try:

            def wanted(mimetype: str) -> bool:
                return (not include or mimetype in include) and (
                    not exclude or mimetype not in exclude
                )

            bundle = {}
            if wanted("image/svg+xml"):
                bundle["image/svg+xml"] = self._repr_svg_()
            if wanted("text/plain"):
                bundle["text/plain"] = repr(self)
            return bundle
        except Exception:
            return {"text/plain": "<gradienti.viz.Dot: could not be displayed>"}


def _path(filename, directory) -> str:
    filename = DEFAULT_FILENAME if filename is None else os.fspath(filename)
    return os.path.join(os.fspath(directory), filename) if directory is not None else filename


def _write(path: str, data: bytes) -> None:
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    with open(path, "wb") as file:
        file.write(data)


def _open_in_viewer(path: str) -> None:
    try:
        if sys.platform.startswith("win"):
            os.startfile(path)
        else:
            opener = "open" if sys.platform == "darwin" else "xdg-open"
            subprocess.Popen([opener, path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError as error:
        raise RuntimeError(f"could not open {path} in a viewer: {error}") from error


def _error_svg(error) -> str:
    """A small SVG that says why the picture could not be drawn (Jupyter shows it)."""
    try:
        message = f"gradienti could not draw this graph: {type(error).__name__}: {error}"
    except Exception:
        message = "gradienti could not draw this graph"
    lines = [message[start : start + 100] for start in range(0, min(len(message), 1000), 100)]
    height = 16 * len(lines) + 12
    width = 8 + 7 * max(len(line) for line in lines)
    texts = "".join(
        f'<text x="6" y="{18 + 16 * row}" font-family="monospace" font-size="12">'
        f"{xml_escape(line)}</text>"
        for row, line in enumerate(lines)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
        f'<rect width="100%" height="100%" fill="#fff3f3" stroke="#c00"/>{texts}</svg>'
    )

"""The ``Dot`` that ``make_dot`` returns: a ``graphviz.Digraph`` look-alike that needs no
Graphviz.

It has the parts of ``graphviz.Digraph`` that torchviz users touch: ``source`` (and
``str(dot)``), ``body`` (one DOT statement a line, so ``len(dot.body)`` counts nodes and edges
as with torchviz), ``graph_attr``/``node_attr``/``edge_attr``, ``attr``, ``node``, ``edge``,
``format``, ``engine``, ``filename``, ``directory``, ``name``, ``comment``, ``save``,
``render``, ``view``, ``pipe``, ``copy`` and the Jupyter display. Everything it draws is read
from those statements (dot_statements.py), so what changes ``source`` changes the picture too.

Where it differs from ``graphviz.Digraph``, on purpose:

* ``format`` defaults to ``"svg"`` (graphviz: ``"pdf"``), which draws with nothing installed;
  ``render("graph.svg")`` (a name ending in svg, png or pdf, no ``format`` given) writes that
  picture itself and no source file, as gradienti always did;
* ``str(dot)`` (so ``print(dot)``) is the source spelled in ASCII, still valid DOT, where
  ``sys.stdout`` cannot encode its symbols (a cp1252 console), as explain's text is;
  ``source`` and the files written are always the source itself;
* as graphviz's, ``save``/``render`` create the folders of the path they are given
  (``render("graph", directory="out")``: naming the folder asks for it); gradienti's own command
  and examples never create one;
* formats are svg, png, pdf and dot/gv (the source); the engine is ``"dot"`` only;
* ``renderer`` chooses who draws -- ``"graphviz-pure"``, ``"dot"``, ``"builtin"`` or
  ``"auto"`` (render.py) -- not Graphviz's cairo/gd renderers; ``formatter`` and
  ``neato_no_op`` are refused, ``quiet`` is accepted (the programs' stderr is only read on
  failure);
* the built-in SVG renderer honours ``rankdir``, ``size``, ``bgcolor`` and ``label`` of the
  graph, ``label``, ``fillcolor``/``color``, ``shape`` (box, ellipse, note) and ``style`` of a
  node, ``label`` and ``style`` of an edge; it ignores fonts (``fontname``, ``fontsize``),
  sizes of nodes, colours of lines and text, and statements it cannot read (subgraphs, ports).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from html import escape as xml_escape

from .._text_encoding import can_encode, spell_ascii
from . import render as renderers
from .dot_source import quote, to_dot
from .dot_statements import (
    ATTRIBUTE_TARGETS,
    attr_statement,
    drawing_graph,
    edge_statement,
    node_statement,
    parse_statement,
)
from .graph import Graph
from .page_html import build_page, write_page

__all__ = ["Dot", "quote", "to_dot"]

DEFAULT_FILENAME = "Digraph.gv"  # the graphviz package's default: the class name + ".gv"
SOURCE_EXTENSION = "gv"
DEFAULT_FORMAT = "svg"
PICTURE_FORMATS = ("svg", "png", "pdf")
# Graphviz's layout programs; gradienti lays out as ``dot`` does and has no other.
GRAPHVIZ_ENGINES = ("circo", "dot", "fdp", "neato", "osage", "patchwork", "sfdp", "twopi")


def verify_format(format) -> str:
    """``format`` in lower case, or graphviz's ValueError for one we cannot write."""
    fmt = str(format).lower()
    if fmt not in renderers.FORMATS:
        raise ValueError(f"unknown format: {format!r} (must be one of {sorted(renderers.FORMATS)})")
    return fmt


def verify_engine(engine) -> str:
    name = str(engine).lower()
    if name not in GRAPHVIZ_ENGINES:
        raise ValueError(f"unknown engine: {engine!r} (must be one of {list(GRAPHVIZ_ENGINES)})")
    if name != "dot":
        raise ValueError(
            f"gradienti lays graphs out as Graphviz's dot does; engine {engine!r} "
            "is not available (use engine='dot')"
        )
    return name


class Dot:
    """A drawn graph that behaves like ``graphviz.Digraph`` (see the module's docstring).

    ``Dot(graph)`` takes the statements of ``to_dot(graph)``: its graph/node/edge attribute
    statements become ``graph_attr``/``node_attr``/``edge_attr``, its node and edge statements
    the ``body``, so that ``source`` is ``to_dot(graph)`` until something is added. ``graph``
    stays the ``Graph`` that make_dot built.

    ``render``/``pipe`` take ``renderer="graphviz-pure" | "dot" | "builtin" | "auto"`` to
    choose who draws (default: the environment variable ``GRADIENTI_VIZ_RENDERER``, else
    ``auto``: graphviz-pure, then dot, then the built-in SVG layout).
    """

    def __init__(
        self,
        graph: Graph | None = None,
        *,
        name=None,
        comment=None,
        filename=None,
        directory=None,
        format=None,
        engine=None,
        encoding="utf-8",
        graph_attr=None,
        node_attr=None,
        edge_attr=None,
        body=None,
    ) -> None:
        self.graph = graph
        self.name = name
        self.comment = comment
        if filename is None:  # graphviz's default: the name, else the class's, + ".gv"
            filename = DEFAULT_FILENAME if name is None else f"{name}.{SOURCE_EXTENSION}"
        self.filename = os.fspath(filename)
        self.directory = "" if directory is None else os.fspath(directory)
        self._format = DEFAULT_FORMAT if format is None else verify_format(format)
        self._engine = "dot" if engine is None else verify_engine(engine)
        self.encoding = encoding
        self.graph_attr: dict = {}
        self.node_attr: dict = {}
        self.edge_attr: dict = {}
        self.body: list[str] = []
        self._notes: list[str] = []  # comments at the top of the source, drawn as notes
        if graph is not None:
            self._take_statements(graph)
        self.graph_attr.update(graph_attr or {})
        self.node_attr.update(node_attr or {})
        self.edge_attr.update(edge_attr or {})
        self.body.extend(body or ())

    def _take_statements(self, graph: Graph) -> None:
        self._notes = [str(note) for note in graph.notes]
        defaults = {"graph": self.graph_attr, "node": self.node_attr, "edge": self.edge_attr}
        # to_dot ends each statement with "\n" (and escapes it in labels); splitlines would also
        # cut at a \v or \u2028 that a name may hold inside a quoted label
        for line in to_dot(graph).split("\n")[1:-2]:  # between "digraph {" and "}"
            statement = parse_statement(line)
            if statement is not None and statement[0] == "skip":
                continue  # the notes, kept in _notes
            if statement is not None and statement[0] == "attr" and statement[1] in defaults:
                defaults[statement[1]].update(statement[2])
            else:
                self.body.append(line + "\n")

    # -- graphviz's parameters
    @property
    def format(self) -> str:
        """The picture's format for ``render``/``pipe``: svg (default), png, pdf, dot, gv."""
        return self._format

    @format.setter
    def format(self, format) -> None:
        self._format = verify_format(format)

    @property
    def engine(self) -> str:
        return self._engine

    @engine.setter
    def engine(self, engine) -> None:
        self._engine = verify_engine(engine)

    @property
    def filepath(self) -> str:
        return os.path.join(self.directory, self.filename)

    # -- the DOT text
    def __iter__(self):
        """The source's lines, as the graphviz package yields them."""
        if self.comment:
            yield f"// {self.comment}\n"
        yield f"digraph {quote(self.name) + ' ' if self.name else ''}{{\n"
        for note in self._notes:
            yield "\t// " + " ".join(note.split()) + "\n"
        for target in ATTRIBUTE_TARGETS:
            attributes = getattr(self, f"{target}_attr")
            if attributes:
                yield attr_statement(target, attributes, sort=False)
        yield from self.body
        yield "}\n"

    @property
    def source(self) -> str:
        return "".join(self)

    def __str__(self) -> str:
        """The source, spelled in ASCII where ``sys.stdout`` cannot encode it (``print(dot)``
        on a cp1252 console), as explain's text is; ``source`` and the files keep it as is."""
        source = self.source
        return source if can_encode(source, sys.stdout) else ascii_source(source)

    def __repr__(self) -> str:
        try:
            return (
                f"<gradienti.viz.Dot: {len(self.graph.nodes)} nodes, {len(self.graph.edges)} edges>"
            )
        except Exception:
            return "<gradienti.viz.Dot>"

    def copy(self) -> Dot:
        """A new ``Dot`` with the same statements and settings (the lists and dicts copied)."""
        twin = Dot(
            name=self.name,
            comment=self.comment,
            filename=self.filename,
            directory=self.directory,
            format=self.format,
            engine=self.engine,
            encoding=self.encoding,
            graph_attr=self.graph_attr,
            node_attr=self.node_attr,
            edge_attr=self.edge_attr,
            body=self.body,
        )
        twin.graph = self.graph
        twin._notes = list(self._notes)
        return twin

    # -- adding to the drawing
    def node(self, name, label=None, _attributes=None, **attrs) -> None:
        """Add a node statement (``dot.node("note", "a remark", shape="note")``)."""
        self.body.append(node_statement(name, label, {**dict(_attributes or {}), **attrs}))

    def edge(self, tail_name, head_name, label=None, _attributes=None, **attrs) -> None:
        """Add an arrow from ``tail_name`` to ``head_name`` (a node named here is created)."""
        attributes = {**dict(_attributes or {}), **attrs}
        self.body.append(edge_statement(tail_name, head_name, label, attributes))

    def edges(self, tail_head_iter) -> None:
        """Add an arrow for each ``(tail, head)`` pair."""
        self.body.extend(edge_statement(tail, head) for tail, head in tail_head_iter)

    def attr(self, kw=None, _attributes=None, **attrs) -> None:
        """Add an attribute statement: for the graph (``kw=None`` or ``"graph"``), or the
        defaults of the nodes or edges declared after it (``"node"``, ``"edge"``)."""
        if kw is not None and str(kw).lower() not in ATTRIBUTE_TARGETS:
            raise ValueError(f"attr statement must target graph, node, or edge: {kw!r}")
        attributes = {**dict(_attributes or {}), **attrs}
        if attributes:
            self.body.append(attr_statement(kw, attributes))

    def clear(self, keep_attrs: bool = False) -> None:
        """Empty the body (and the attribute dicts unless ``keep_attrs``)."""
        if not keep_attrs:
            for attributes in (self.graph_attr, self.node_attr, self.edge_attr):
                attributes.clear()
        self.body.clear()

    def drawing(self) -> Graph:
        """The ``Graph`` these statements draw (what the built-in renderer lays out)."""
        return drawing_graph(
            self.graph_attr, self.node_attr, self.edge_attr, self.body, self._notes
        )

    # -- files and pictures
    def save(self, filename=None, directory=None) -> str:
        """Write the DOT source to ``directory/filename`` (defaults: ``self.filename``,
        ``Digraph.gv``, in ``self.directory``), remember both, and return the path."""
        filename = self.filename if filename is None else os.fspath(filename)
        directory = self.directory if directory is None else os.fspath(directory)
        path = os.path.join(directory, filename)
        _write(path, self.source.encode(self.encoding))
        self.filename, self.directory = filename, directory  # remembered once written
        return path

    def pipe(
        self,
        format=None,
        renderer=None,
        formatter=None,
        neato_no_op=None,
        quiet: bool = False,
        *,
        engine=None,
        encoding=None,
        timeout=None,
    ):
        """The picture as bytes (``encoding``: as text): svg, png, pdf, or dot/gv (the source)."""
        fmt = self.format if format is None else verify_format(format)
        _check_render_options(formatter, neato_no_op, engine)
        picture = renderers.render_graph(
            self.drawing(),
            fmt,
            source=self.source,
            renderer=renderer,
            timeout=renderers.DEFAULT_TIMEOUT if timeout is None else timeout,
        )
        return picture if encoding is None else picture.decode(encoding)

    def render(
        self,
        filename=None,
        directory=None,
        view: bool = False,
        cleanup: bool = False,
        format=None,
        renderer=None,
        formatter=None,
        neato_no_op=None,
        quiet: bool = False,
        quiet_view: bool = False,
        *,
        outfile=None,
        engine=None,
        raise_if_result_exists: bool = False,
        overwrite_source: bool = False,
        timeout=None,
    ) -> str:
        """Save the source, draw the picture beside it, and return the picture's path.

        As in the graphviz package: ``render("graph")`` keeps the DOT source in ``graph`` and
        writes the picture to ``graph.<format>`` (``cleanup=True``: the source is removed);
        ``render(outfile="out/graph.png")`` takes the format from the suffix and keeps the
        source in ``out/graph.gv``; ``view=True`` opens the picture. gradienti's own: a name
        ending in svg, png or pdf with no ``format`` given (``render("graph.png")``) is the
        picture itself, and no source file is written.
        """
        if raise_if_result_exists and overwrite_source:
            raise ValueError("overwrite_source cannot be combined with raise_if_result_exists")
        _check_render_options(formatter, neato_no_op, engine)
        picture_only = False
        if outfile is not None:
            outfile = os.fspath(outfile)
            fmt = _outfile_format(outfile, format)
            if filename is None:
                filename = os.path.splitext(outfile)[0] + "." + SOURCE_EXTENSION
            if directory is None:
                outfile = os.path.join(self.directory, outfile)
        else:
            fmt = None if format is None else verify_format(format)
            if fmt is None and filename is not None:
                ending = os.path.splitext(os.fspath(filename))[1].lower().lstrip(".")
                if ending in PICTURE_FORMATS:
                    fmt, picture_only = ending, True
            fmt = fmt or self.format
        # Remembered (as graphviz does) only once the picture is written.
        filename = self.filename if filename is None else os.fspath(filename)
        directory = self.directory if directory is None else os.fspath(directory)
        source_path = os.path.join(directory, filename)
        if outfile is None:
            picture_only = picture_only or source_path.lower().endswith("." + fmt)
            outfile = source_path if picture_only else f"{source_path}.{fmt}"
        elif not overwrite_source and os.path.abspath(outfile) == os.path.abspath(source_path):
            raise ValueError(
                f"outfile {os.path.basename(outfile)!r} must be different from input file "
                f"{os.path.basename(source_path)!r} (pass overwrite_source=True to override)"
            )
        if raise_if_result_exists and os.path.exists(outfile):
            raise FileExistsError(f"output file exists: {outfile!r}")
        # Draw first: a picture that cannot be drawn leaves no files behind.
        picture = self.pipe(fmt, renderer, quiet=quiet, timeout=timeout)
        writes_source = not picture_only and outfile != source_path
        if writes_source:
            before = _contents(source_path)
            _write(source_path, self.source.encode(self.encoding))
        try:
            _write(outfile, picture)
        except OSError:  # the picture's path is taken (a folder): the source as it was
            if writes_source:
                _restore(source_path, before)
            raise
        self.filename, self.directory = filename, directory
        if cleanup and not picture_only and outfile != source_path:
            os.remove(source_path)
        if view or quiet_view:
            _open_in_viewer(outfile)
        return outfile

    def view(self, filename=None, directory=None, cleanup=False, quiet=False, quiet_view=False):
        """``render(..., view=True)``: save, draw, and open the picture in the system's viewer."""
        return self.render(
            filename, directory, view=True, cleanup=cleanup, quiet=quiet, quiet_view=quiet_view
        )

    # -- the interactive page
    def to_html(self, path=None, *, mode: str = "backward", inputs=None):
        """The interactive page of this graph's backward pass (``mode="forward"``: forward
        mode, seeded at each tensor of ``inputs``), one self-contained HTML file: this
        picture drawn by the built-in layout (pass ``show_values=True`` to make_dot for the
        values in the boxes), ``explain``'s steps to walk through. Returns the HTML text; with
        a ``path``, writes it there (atomically; a missing directory is an error) and returns
        the path. ``gradienti.viz.show(y)`` is the same view, also for Jupyter."""
        if self.graph is None or not self.graph.outputs:
            raise ValueError("to_html needs the graph of a tensor: make the Dot with make_dot(y)")
        page = build_page(self.graph, self.drawing(), mode=mode, inputs=inputs)
        if path is None:
            return page.document()
        return write_page(page.document(), path)

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


# A quoted DOT string, its text in group 1 (with DOT's backslash escapes).
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)


def ascii_source(source: str) -> str:
    """``source`` spelled in ASCII that is still valid DOT: a symbol spelled with a quote or a
    backslash (a curly quote, ``\\u4e2d`` for a character without a spelling) is escaped
    inside its quoted string, so the printed text still parses and draws as the source."""

    def spell_quoted(match) -> str:
        text = match[1]
        if text.isascii():
            return match[0]
        escaped = []
        for char in text:
            alone = spell_ascii(char)
            if not char.isascii() and ('"' in alone or "\\" in alone):
                char = alone.replace("\\", "\\\\").replace('"', '\\"')
            escaped.append(char)
        return '"' + spell_ascii("".join(escaped)) + '"'

    return spell_ascii(_QUOTED.sub(spell_quoted, source))


def _check_render_options(formatter, neato_no_op, engine) -> None:
    if formatter is not None:
        raise ValueError(
            f"gradienti's renderers take no Graphviz formatter (got formatter={formatter!r})"
        )
    if neato_no_op:
        raise ValueError("neato_no_op is for Graphviz's neato engine; gradienti lays out as dot")
    if engine is not None:
        verify_engine(engine)


def _outfile_format(outfile: str, format) -> str:
    """The format of ``render(outfile=...)``: ``format`` if given, else the file's suffix."""
    if format is not None:
        return verify_format(format)
    suffix = os.path.splitext(outfile)[1]
    if suffix.lower().lstrip(".") not in renderers.FORMATS:
        # graphviz raises its RequiredArgumentError, a TypeError: the format argument is missing.
        raise TypeError(
            f"cannot infer rendering format from suffix {suffix!r} of outfile: {outfile!r} "
            f"(provide format or outfile with a suffix from "
            f"{['.' + fmt for fmt in sorted(renderers.FORMATS)]!r})"
        )
    return suffix.lower().lstrip(".")


def _write(path: str, data: bytes) -> None:
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    with open(path, "wb") as file:
        file.write(data)


def _contents(path: str) -> bytes | None:
    """The bytes of the file at ``path``, None where there is none."""
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError:
        return None


def _restore(path: str, contents: bytes | None) -> None:
    """Put back what ``_contents`` read: the old bytes, or no file."""
    if contents is None:
        os.remove(path)
    else:
        _write(path, contents)


def _open_in_viewer(path: str) -> None:
    try:
        if sys.platform.startswith("win"):
            os.startfile(path)
        else:
            opener = "open" if sys.platform == "darwin" else "xdg-open"
            subprocess.Popen([opener, path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError as error:
        # graphviz lets the OSError through (FileNotFoundError where there is no xdg-open, as
        # on a server without a desktop); the same class, saying which picture was to be shown
        raise type(error)(
            error.errno, f"could not open {path} in a viewer: {error.strerror or error}"
        ) from error


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

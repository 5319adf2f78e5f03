"""The built-in picture's SVG text: colours, XML escaping and the document for a ``Layout``.

``render_svg(graph)`` is the built-in picture from start to end: ``compute_layout(graph)``
(geometry.py, which places the boxes with layout.py) draws it, and ``layout_to_svg`` writes the
document for that drawing. The SVG follows Graphviz's structure, so tools that read one read the
other: a ``<g class="graph">``, one ``<g class="edge">`` per edge with
``<title>tail->head</title>``, and one ``<g class="node" id="...">`` per node with
``<title>id</title>``. Colours are Graphviz's (X11) names, mapped to hex, or ``#rrggbb`` passed
through.
"""

from __future__ import annotations

import re

# The geometry's names are importable from here too, as they were before geometry.py existed.
from .geometry import (
    ARROW_HALF_WIDTH,
    ARROW_LENGTH,
    CHAR_WIDTH,
    CORNER_RADIUS,
    FONT_SIZE,
    LABEL_LANE,
    LINE_HEIGHT,
    LOOP_SIZE,
    MARGIN,
    MIN_HEIGHT,
    MIN_WIDTH,
    NOTE_FONT_SIZE,
    NOTE_LINE_HEIGHT,
    PAD_X,
    PAD_Y,
    EdgeRoute,
    Layout,
    NodeBox,
    compute_layout,
    has_arrow,
    label_lines,
    node_size,
    shape_of,
    style_tokens,
    text_columns,
    text_size,
)
from .graph import Graph

__all__ = [
    "ARROW_HALF_WIDTH",
    "ARROW_LENGTH",
    "CHAR_WIDTH",
    "CORNER_RADIUS",
    "FONT_FAMILY",
    "FONT_SIZE",
    "LABEL_LANE",
    "LINE_HEIGHT",
    "LOOP_SIZE",
    "MARGIN",
    "MIN_HEIGHT",
    "MIN_WIDTH",
    "NOTE_FONT_SIZE",
    "NOTE_LINE_HEIGHT",
    "PAD_X",
    "PAD_Y",
    "EdgeRoute",
    "Layout",
    "NodeBox",
    "color",
    "compute_layout",
    "escape",
    "has_arrow",
    "label_lines",
    "layout_to_svg",
    "render_svg",
    "node_size",
    "shape_of",
    "style_tokens",
    "text_columns",
    "text_size",
]

FONT_FAMILY = "DejaVu Sans Mono,Menlo,Consolas,Courier New,monospace"


# --------------------------------------------------------------------------- SVG


# Graphviz's colour names (X11), the ones pictures of graphs use; any other plain name is passed
# through, since SVG viewers know the CSS names, which mostly agree with X11's.
_X11_NAMES = """
aliceblue=#f0f8ff azure=#f0ffff beige=#f5f5dc black=#000000 blue=#0000ff brown=#a52a2a
coral=#ff7f50 cornsilk=#fff8dc cyan=#00ffff darkgreen=#006400 darkolivegreen=#556b2f
darkolivegreen1=#caff70 darkolivegreen2=#bcee68 darkolivegreen3=#a2cd5a
darkolivegreen4=#6e8b3d darkorange=#ff8c00 gainsboro=#dcdcdc gold=#ffd700 gray=#c0c0c0
green=#00ff00 grey=#c0c0c0 honeydew=#f0fff0 ivory=#fffff0 khaki=#f0e68c lavender=#e6e6fa
lemonchiffon=#fffacd lightblue=#add8e6 lightblue1=#bfefff lightcoral=#f08080 lightcyan=#e0ffff
lightgoldenrod=#eedd82 lightgray=#d3d3d3 lightgreen=#90ee90 lightgrey=#d3d3d3
lightpink=#ffb6c1 lightsalmon=#ffa07a lightskyblue=#87cefa lightsteelblue=#b0c4de
lightyellow=#ffffe0 magenta=#ff00ff mintcream=#f5fffa navy=#000080 orange=#ffa500
orange1=#ffa500 palegreen=#98fb98 paleturquoise=#afeeee pink=#ffc0cb plum=#dda0dd
purple=#a020f0 red=#ff0000 salmon=#fa8072 seashell=#fff5ee skyblue=#87ceeb snow=#fffafa
tan=#d2b48c thistle=#d8bfd8 tomato=#ff6347 turquoise=#40e0d0 violet=#ee82ee wheat=#f5deb3
white=#ffffff whitesmoke=#f5f5f5 yellow=#ffff00 yellowgreen=#9acd32
"""
_X11 = dict(item.split("=") for item in _X11_NAMES.split())
_HEX = re.compile(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
_NAME = re.compile(r"([a-z]+)(\d*)")
_GREY = re.compile(r"gr[ae]y(\d{1,3})")
_NUMBER = r"\s*([0-9]*\.?[0-9]+)\s*"
_HSV = re.compile(rf"{_NUMBER}[, ]{_NUMBER}[, ]{_NUMBER}")
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def color(value: str | None, default: str = "#d3d3d3") -> tuple[str, float]:
    """An SVG paint and opacity for a Graphviz colour: an X11 name, ``#rgb``/``#rrggbb``
    (``#rrggbbaa`` gives an opacity), ``"H,S,V"`` in [0, 1], a list ``a:b`` (its first colour),
    ``none``/``transparent``. Anything unusable gives ``default``."""
    text = str(value or "").strip().lower().split(":")[0].split(";")[0].strip()
    if not text:
        return default, 1.0
    if text in ("none", "transparent", "invis"):
        return "none", 1.0
    hex_match = _HEX.fullmatch(text)
    if hex_match:
        digits = hex_match.group(1)
        if len(digits) == 8:
            return "#" + digits[:6], round(int(digits[6:], 16) / 255.0, 3)
        return "#" + digits, 1.0
    if text in _X11:
        return _X11[text], 1.0
    grey = _GREY.fullmatch(text)
    if grey and int(grey.group(1)) <= 100:
        level = round(int(grey.group(1)) * 2.55)
        return f"#{level:02x}{level:02x}{level:02x}", 1.0
    hsv = _HSV.fullmatch(text)
    if hsv:
        return _hsv_to_hex(*(min(1.0, float(g)) for g in hsv.groups())), 1.0
    name = _NAME.fullmatch(text)
    if name:  # an X11 variant we do not list ("orange3"): its base colour
        return _X11.get(name.group(1), name.group(1)), 1.0
    return default, 1.0


def _hsv_to_hex(h: float, s: float, v: float) -> str:
    i = int(h * 6.0) % 6
    f = h * 6.0 - int(h * 6.0)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    r, g, b = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return "#" + "".join(f"{round(c * 255):02x}" for c in (r, g, b))


def escape(text: str) -> str:
    """Text made safe for XML character data and attribute values."""
    text = _BAD_XML.sub("\ufffd", str(text))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;").replace("\n", "&#10;")


def _num(value: float) -> str:
    return f"{value:.1f}"


def _pt(p: tuple[float, float]) -> str:
    return f"{p[0]:.1f},{p[1]:.1f}"


def render_svg(graph: Graph) -> str:
    """Lay out ``graph`` and return a complete standalone SVG document (no Graphviz needed)."""
    return layout_to_svg(compute_layout(graph))


def layout_to_svg(layout: Layout) -> str:
    """The SVG document for a layout (see :func:`render_svg`)."""
    width, height = layout.width, layout.height
    background, _ = color(layout.background, "#ffffff")
    out = [
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_num(width * layout.scale)}pt" '
        f'height="{_num(height * layout.scale)}pt" viewBox="0 0 {_num(width)} {_num(height)}">',
        f'<g id="graph0" class="graph" font-family="{FONT_FAMILY}" font-size="{_num(FONT_SIZE)}">',
        "<title>G</title>",
        f'<rect class="background" x="0" y="0" width="{_num(width)}" height="{_num(height)}" '
        f'fill="{background}" stroke="none"/>',
    ]
    for route in layout.edges:
        out.append(_edge_svg(route))
    for box in layout.nodes:
        out.append(_node_svg(box))
    if layout.notes:
        out.append('<g class="notes">')
        y = layout.notes_y
        for line in layout.notes:
            out.append(
                f'<text x="{_num(MARGIN)}" y="{_num(y)}" font-size="{_num(NOTE_FONT_SIZE)}" '
                f'fill="#555555" xml:space="preserve">{escape(line)}</text>'
            )
            y += NOTE_LINE_HEIGHT
        out.append("</g>")
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _text_lines(lines: list[str], cx: float, cy: float, fill: str = "#000000") -> list[str]:
    """One ``<text>`` per line, centred on ``(cx, cy)``."""
    first = cy - (len(lines) - 1) * LINE_HEIGHT / 2.0 + 0.35 * FONT_SIZE
    return [
        f'<text text-anchor="middle" x="{_num(cx)}" y="{_num(first + i * LINE_HEIGHT)}" '
        f'fill="{fill}" xml:space="preserve">{escape(line)}</text>'
        for i, line in enumerate(lines)
    ]


def _node_svg(box: NodeBox) -> str:
    node = box.node
    tokens = style_tokens(node.style)
    parts = [f'<g class="node" id="{escape(node.id)}">', f"<title>{escape(node.id)}</title>"]
    if "invis" in tokens:
        parts.append("</g>")
        return "\n".join(parts)
    fill, opacity = color(node.fillcolor) if "filled" in tokens else ("none", 1.0)
    paint = f'fill="{fill}"' + (f' fill-opacity="{opacity}"' if opacity < 1.0 else "")
    stroke = 'stroke="#000000"'
    if "dashed" in tokens:
        stroke += ' stroke-dasharray="5,2"'
    elif "dotted" in tokens:
        stroke += ' stroke-dasharray="1,3"'
    stroke += ' stroke-width="2"' if "bold" in tokens else ""
    x0, y0 = box.x - box.width / 2.0, box.y - box.height / 2.0
    if box.shape == "ellipse":
        parts.append(
            f'<ellipse cx="{_num(box.x)}" cy="{_num(box.y)}" rx="{_num(box.width / 2.0)}" '
            f'ry="{_num(box.height / 2.0)}" {paint} {stroke}/>'
        )
    elif box.shape == "note":
        x1, y1, fold = x0 + box.width, y0 + box.height, 6.0
        corners = [(x0, y0), (x1 - fold, y0), (x1, y0 + fold), (x1, y1), (x0, y1)]
        parts.append(f'<polygon points="{" ".join(_pt(p) for p in corners)}" {paint} {stroke}/>')
        parts.append(
            f'<polyline points="{_pt((x1 - fold, y0))} {_pt((x1 - fold, y0 + fold))} '
            f'{_pt((x1, y0 + fold))}" fill="none" {stroke}/>'
        )
    elif box.shape == "box":
        radius = f' rx="{_num(CORNER_RADIUS)}" ry="{_num(CORNER_RADIUS)}"'
        parts.append(
            f'<rect x="{_num(x0)}" y="{_num(y0)}" width="{_num(box.width)}" '
            f'height="{_num(box.height)}"{radius if "rounded" in tokens else ""} '
            f"{paint} {stroke}/>"
        )
    parts.extend(_text_lines(box.lines, box.x, box.y))
    parts.append("</g>")
    return "\n".join(parts)


def _edge_svg(route: EdgeRoute) -> str:
    edge = route.edge
    tokens = style_tokens(edge.style)
    title = f"{escape(edge.tail)}-&gt;{escape(edge.head)}"
    parts = ['<g class="edge">', f"<title>{title}</title>"]
    if "invis" in tokens:
        parts.append("</g>")
        return "\n".join(parts)
    d = [f"M{_pt(route.start)}"]
    for segment in route.segments:
        d.append(segment[0] + " ".join(_pt(p) for p in segment[1:]))
    dash = ""
    if "dotted" in tokens:
        dash = ' stroke-dasharray="1,3"'
    elif "dashed" in tokens:
        dash = ' stroke-dasharray="5,2"'
    width = "2" if "bold" in tokens else "1"
    parts.append(
        f'<path d="{" ".join(d)}" fill="none" stroke="#000000" stroke-width="{width}"{dash}/>'
    )
    if route.arrow_tip is not None and route.arrow_dir is not None:
        (tx, ty), (dx, dy) = route.arrow_tip, route.arrow_dir
        bx, by = tx - dx * ARROW_LENGTH, ty - dy * ARROW_LENGTH
        nx, ny = -dy * ARROW_HALF_WIDTH, dx * ARROW_HALF_WIDTH
        corners = [(tx, ty), (bx + nx, by + ny), (bx - nx, by - ny)]
        parts.append(
            f'<polygon class="arrowhead" points="{" ".join(_pt(p) for p in corners)}" '
            f'fill="#000000" stroke="#000000" stroke-width="{width}"/>'
        )
    if route.label_at is not None and route.label_lines:
        parts.extend(_text_lines(route.label_lines, route.label_at[0], route.label_at[1]))
    parts.append("</g>")
    return "\n".join(parts)

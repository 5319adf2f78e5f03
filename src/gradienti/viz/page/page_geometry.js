/* gradienti's step-by-step view: the drawing's geometry (no build step, no dependencies).
 *
 * Loaded before page.js (viz/page_html.py joins SCRIPT_FILES in that order into the page's one
 * script element): the label and total pills placed clear of the boxes, edge points read from the
 * path data, and pan/zoom on the SVG's viewBox. The View class of page.js takes labelMethods and
 * panZoomMethods as its own methods (`this` is the view). Defined once per page, however many
 * times the script is included (one Jupyter output per view).
 */
(() => {
  "use strict";

  if (window.__gradientiGeometryV1) return;

  // Labels are measured without asking the browser for layout: the font is monospaced, so a
  // label's width is its length times the font's advance (about 0.62 em for DejaVu Sans Mono).
  const GRAD_FONT_PX = 10.5;
  const TOTAL_FONT_PX = 11;
  const MONO_ADVANCE_EM = 0.62;
  const PILL_PAD_X = 4;
  const PILL_PAD_Y = 3;
  // Longer values (a vector, a matrix's summary) are cut on the drawing, whole in the tooltip
  // and in the panel's text: a long pill would cover its neighbours.
  const MAX_GRAD_CHARS = 28;
  const MAX_TOTAL_CHARS = 40;
  const FIT_PADDING_PX = 14;

  const clamp = (value, low, high) => Math.min(high, Math.max(low, value));
  const textWidth = (text, fontPx) => Array.from(text).length * fontPx * MONO_ADVANCE_EM;
  const shortened = (text, limit) =>
    Array.from(text).length > limit ? Array.from(text).slice(0, limit - 1).join("") + "\u2026" : text;

  const overlaps = (a, b) =>
    a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
  const pillSize = (text, fontPx) => [textWidth(text, fontPx) + 2 * PILL_PAD_X, fontPx + 2 * PILL_PAD_Y];

  /* An edge's path as a polyline (cubic curves sampled), read from its "d" (absolute M, L, C:
   * what the built-in renderer and Graphviz write); null for anything else. Asking the browser
   * (getPointAtLength) instead costs about a millisecond per edge. */
  function polyline(d) {
    const tokens = d.match(/[A-Za-z]|-?[\d.]+(?:e[-+]?\d+)?/g) || [];
    const points = [];
    let command = null;
    for (let i = 0; i < tokens.length; ) {
      if (/[A-Za-z]/.test(tokens[i])) command = tokens[i++];
      const take = (n) => tokens.slice(i, (i += n)).map(Number);
      if (command === "M" || command === "L") {
        const [x, y] = take(2);
        points.push([x, y]);
      } else if (command === "C" && points.length) {
        const [x0, y0] = points[points.length - 1];
        const [x1, y1, x2, y2, x3, y3] = take(6);
        for (let step = 1; step <= 8; step++) {
          const t = step / 8;
          const [a, b, c, e] = [(1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t * t, t ** 3];
          points.push([a * x0 + b * x1 + c * x2 + e * x3, a * y0 + b * y1 + c * y2 + e * y3]);
        }
      } else return null;
    }
    return points.length && !points.some((point) => point.some(Number.isNaN)) ? points : null;
  }

  /* fraction => the point at that fraction of a polyline's length. */
  function walker(points) {
    const lengths = [0];
    for (let i = 1; i < points.length; i++) {
      const [dx, dy] = [points[i][0] - points[i - 1][0], points[i][1] - points[i - 1][1]];
      lengths.push(lengths[i - 1] + Math.hypot(dx, dy));
    }
    return (fraction) => {
      if (points.length === 1) return { x: points[0][0], y: points[0][1] };
      const target = lengths[lengths.length - 1] * fraction;
      const i = Math.max(1, lengths.findIndex((length) => length >= target));
      const t = (target - lengths[i - 1]) / (lengths[i] - lengths[i - 1] || 1);
      const [from, to] = [points[i - 1], points[i]];
      return { x: from[0] + (to[0] - from[0]) * t, y: from[1] + (to[1] - from[1]) * t };
    };
  }

  function numbers(element, names) {
    return names.map((name) => parseFloat(element.getAttribute(name) || "0"));
  }

  /* The box of a node's outline, read from its attributes (no layout): rect, ellipse, polygon;
   * anything else falls back to getBBox. Coordinates are those of the node's own layer. */
  function shapeBox(group) {
    const shape = group.querySelector("rect, ellipse, circle, polygon, polyline, path");
    if (!shape) return group.getBBox();
    const tag = shape.tagName.toLowerCase();
    if (tag === "rect") {
      const [x, y, width, height] = numbers(shape, ["x", "y", "width", "height"]);
      return { x, y, width, height };
    }
    if (tag === "ellipse" || tag === "circle") {
      const [cx, cy, rx, ry, r] = numbers(shape, ["cx", "cy", "rx", "ry", "r"]);
      const half = [tag === "circle" ? r : rx, tag === "circle" ? r : ry];
      return { x: cx - half[0], y: cy - half[1], width: 2 * half[0], height: 2 * half[1] };
    }
    if (tag === "polygon" || tag === "polyline") {
      const values = (shape.getAttribute("points") || "").split(/[\s,]+/).filter(Boolean).map(Number);
      const xs = values.filter((_, i) => i % 2 === 0);
      const ys = values.filter((_, i) => i % 2 === 1);
      if (xs.length) {
        const x = Math.min(...xs);
        const y = Math.min(...ys);
        return { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y };
      }
    }
    return shape.getBBox();
  }

  /* The View's methods that draw on the SVG: its boxes, the gradient and total pills, ticks. */
  const labelMethods = {
    make(tag, attributes, parent) {
      const element = this.svg.ownerDocument.createElementNS(this.svg.namespaceURI, tag);
      for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
      if (parent) parent.appendChild(element);
      return element;
    },

    nodeBox(id) {
      if (!this.boxCache.has(id)) this.boxCache.set(id, shapeBox(this.nodes.get(id)));
      return this.boxCache.get(id);
    },

    toViewBox(x, y) {
      const m = this.layerMatrix;
      return m ? { x: m.a * x + m.c * y + m.e, y: m.b * x + m.d * y + m.f } : { x, y };
    },

    /* "x.grad = 60 + 8 + 4 = 72" (the leaf's name from the model), or "grad = ..." unnamed. */
    totalFullText(total) {
      const name = (this.nodeInfo[total.node] || {}).name;
      return name ? `${name}.grad = ${total.text}` : `grad = ${total.text}`;
    },

    totalText(total) {
      return shortened(this.totalFullText(total), MAX_TOTAL_CHARS);
    },

    /* Where a leaf's total goes: beside its box (right, left, below, above: the first place
     * that covers no other box), placed once so every step draws it in the same place. */
    totalBox(total) {
      const key = `${total.node}\u0000${total.text}`;
      if (this.totalPlaces.has(key)) return this.totalPlaces.get(key);
      const box = this.nodeBox(total.node);
      const [width, height] = pillSize(this.totalText(total), TOTAL_FONT_PX);
      const gap = 8;
      const middleY = box.y + box.height / 2 - height / 2;
      const middleX = box.x + box.width / 2 - width / 2;
      const candidates = [
        { x: box.x + box.width + gap, y: middleY },
        { x: box.x - gap - width, y: middleY },
        { x: middleX, y: box.y + box.height + gap },
        { x: middleX, y: box.y - gap - height },
      ].map((place) => ({ ...place, width, height }));
      const others = [...this.nodes.keys()].filter((id) => id !== total.node).map((id) => this.nodeBox(id));
      const place = candidates.find((c) => !others.some((other) => overlaps(c, other))) || candidates[0];
      this.totalPlaces.set(key, place);
      return place;
    },

    /* The box that "fit" shows: the drawing plus the leaf totals the last step writes beside it. */
    unionWithTotals(box) {
      let [left, top, right, bottom] = [box.x, box.y, box.x + box.width, box.y + box.height];
      for (const step of this.stepList) {
        if (!step.total || !this.nodes.has(step.total.node)) continue;
        const pill = this.totalBox(step.total);
        for (const [x, y] of [
          [pill.x, pill.y],
          [pill.x + pill.width, pill.y + pill.height],
        ]) {
          const point = this.toViewBox(x, y);
          [left, right] = [Math.min(left, point.x), Math.max(right, point.x + 4)];
          [top, bottom] = [Math.min(top, point.y), Math.max(bottom, point.y)];
        }
      }
      return { x: left, y: top, width: right - left, height: bottom - top };
    },

    /* A value in a pill (kind "grad" on an edge, "total" beside a leaf): a rect behind the text
     * so it reads over edges and boxes. A shortened text has the whole value as its <title>. */
    pill(kind, text, fullText, x, y) {
      const fontPx = kind === "total" ? TOTAL_FONT_PX : GRAD_FONT_PX;
      const group = this.make("g", { class: `gd-${kind}-label` });
      if (fullText !== text) this.make("title", {}, group).textContent = fullText;
      const [width, height] = pillSize(text, fontPx);
      // Totals start at x (beside their box); edge labels are centred on the edge's middle.
      const left = kind === "total" ? x : x - width / 2;
      const pillClass = kind === "total" ? "gd-total-pill" : "gd-pill";
      const box = { x: left, y: y - height / 2, width, height, rx: height / 2 };
      this.make("rect", { class: pillClass, ...box }, group);
      const attributes = { "text-anchor": "middle", "dominant-baseline": "central" };
      const label = this.make("text", { class: `gd-${kind}`, x: left + width / 2, y, ...attributes }, group);
      label.textContent = text;
      return group;
    },

    /* Where each gradient label goes, decided once for the whole pass so that every way of
     * reaching step K draws the same picture: on its edge (the middle, then a little before or
     * after it), else beside its middle; the first place clear of the boxes and of the labels
     * placed before it, else the first clear of those labels, else the middle. Coarse grids of
     * the boxes and labels keep the checks linear. */
    placeLabels() {
      this.labelPlaces = new Map();
      const cell = 48;
      const cellsOf = (box) => {
        const keys = [];
        for (let gx = Math.floor(box.x / cell); gx <= Math.floor((box.x + box.width) / cell); gx++) {
          for (let gy = Math.floor(box.y / cell); gy <= Math.floor((box.y + box.height) / cell); gy++) {
            keys.push(`${gx},${gy}`);
          }
        }
        return keys;
      };
      const occupy = (grid, box) => {
        for (const key of cellsOf(box)) {
          if (!grid.has(key)) grid.set(key, []);
          grid.get(key).push(box);
        }
      };
      const clearOf = (grid) => (box) =>
        cellsOf(box).every((key) => !(grid.get(key) || []).some((other) => overlaps(box, other)));
      const [boxes, labels] = [new Map(), new Map()];
      for (const id of this.nodes.keys()) occupy(boxes, this.nodeBox(id));
      const clearOfLabels = clearOf(labels);
      const clearOfBoth = (box) => clearOfLabels(box) && clearOf(boxes)(box);
      for (const step of this.stepList) {
        for (const send of step.sends || []) {
          const value = String(send.grad);
          const key = `${send.edge}\u0000${value}`;
          const path = this.edges.has(send.edge) && this.edges.get(send.edge).querySelector("path");
          if (!path || this.labelPlaces.has(key)) continue;
          const points = polyline(path.getAttribute("d") || "");
          const length = points ? 0 : path.getTotalLength();
          const along = points ? walker(points) : (fraction) => path.getPointAtLength(length * fraction);
          const [width, height] = pillSize(shortened(value, MAX_GRAD_CHARS), GRAD_FONT_PX);
          const boxAt = (fraction) => {
            const point = along(fraction);
            return { x: point.x - width / 2, y: point.y - height / 2, width, height };
          };
          const middle = boxAt(0.5);
          const beside = [1, -1, 2, -2, 3, -3].map((k) => ({ ...middle, y: middle.y + k * (height + 2) }));
          const candidates = [middle, boxAt(0.3), boxAt(0.7), ...beside];
          const box = candidates.find(clearOfBoth) || candidates.find(clearOfLabels) || middle;
          occupy(labels, box);
          this.labelPlaces.set(key, { x: box.x + width / 2, y: box.y + height / 2 });
        }
      }
    },

    gradLabel(edgeId, value, sending) {
      const key = `${edgeId}\u0000${value}`;
      let entry = this.labelCache.get(key);
      if (!entry) {
        entry = { group: null, place: this.labelPlaces.get(key) };
        if (entry.place) {
          const { x, y } = entry.place;
          entry.group = this.pill("grad", shortened(value, MAX_GRAD_CHARS), value, x, y);
          entry.group.dataset.edge = edgeId;
        }
        this.labelCache.set(key, entry);
      }
      if (entry.group) entry.group.classList.toggle("gd-label-sending", sending);
      return entry.group;
    },

    tick(id) {
      if (!this.tickCache.has(id)) {
        const box = this.nodeBox(id);
        const mark = this.make("text", { class: "gd-tick", x: box.x + box.width + 3, y: box.y + 11 });
        mark.textContent = "\u2713";
        this.tickCache.set(id, mark);
      }
      return this.tickCache.get(id);
    },
  };

  const panZoomMethods = {
    /* ------------------------------------------------------------ pan and zoom (the viewBox) */

    wirePanZoom() {
      // The view is the SVG point at the container's top-left corner and a scale in pixels per
      // SVG unit; the viewBox shows exactly the container, so text stays sharp at every zoom.
      this.view = { x: 0, y: 0, scale: 1 };
      this.size = { width: 0, height: 0 };
      this.userMoved = false;
      this.frame = 0;
      if (!this.svg || !this.graphBox) return;
      this.svg.setAttribute("preserveAspectRatio", "xMinYMin meet");
      const box = this.graphBox;
      box.addEventListener("wheel", (event) => this.onWheel(event), { passive: false });
      box.addEventListener("pointerdown", (event) => this.onPointerDown(event));
      box.addEventListener("pointermove", (event) => this.onPointerMove(event));
      box.addEventListener("pointerup", (event) => this.onPointerUp(event));
      box.addEventListener("pointercancel", () => this.endDrag());
      if (window.ResizeObserver) {
        new ResizeObserver(() => this.measure()).observe(box);
      }
      this.measure();
    },

    measure() {
      const width = this.graphBox.clientWidth;
      const height = this.graphBox.clientHeight;
      if (!width || !height) return; // hidden (a collapsed notebook output): wait for a size
      const first = !this.size.width;
      const centre = this.centre();
      this.size = { width, height };
      if (first || !this.userMoved) this.fit(false);
      else this.setCentre(centre);
    },

    centre() {
      const { x, y, scale } = this.view;
      return { x: x + this.size.width / (2 * scale), y: y + this.size.height / (2 * scale) };
    },

    setCentre(point) {
      const { scale } = this.view;
      this.view.x = point.x - this.size.width / (2 * scale);
      this.view.y = point.y - this.size.height / (2 * scale);
      this.schedule();
    },

    /* The width the zoom buttons take at the right: "fit" keeps the drawing (and a leaf's total
     * beside it) clear of them, in a narrow view too. */
    controlsWidth() {
      const zoom = this.find(".gd-zoom");
      return zoom ? zoom.offsetWidth + FIT_PADDING_PX : 0;
    },

    fitScale() {
      const box = this.fitBox;
      const room = (length) => Math.max(1, length - 2 * FIT_PADDING_PX);
      const width = room(this.size.width - this.controlsWidth());
      return Math.min(width / box.width, room(this.size.height) / box.height);
    },

    fit(byUser = true) {
      if (!this.size.width || !this.fitBox) return;
      if (byUser) this.userMoved = false;
      const box = this.fitBox;
      // Small graphs are not blown up past 2.5x: the boxes would look like a poster.
      this.view.scale = Math.min(this.fitScale(), 2.5);
      const shift = this.controlsWidth() / (2 * this.view.scale);
      this.setCentre({ x: box.x + box.width / 2 + shift, y: box.y + box.height / 2 });
    },

    zoomAt(px, py, factor) {
      if (!this.size.width) return;
      const { x, y, scale } = this.view;
      const fitted = this.fitScale();
      const next = clamp(scale * factor, Math.min(fitted / 4, 0.05), Math.max(fitted * 4, 8));
      // Keep the SVG point under the pointer where it is: x + px/scale == x' + px/scale'.
      this.view = { x: x + px / scale - px / next, y: y + py / scale - py / next, scale: next };
      this.userMoved = true;
      this.schedule();
    },

    zoomAtCenter(factor) {
      this.zoomAt(this.size.width / 2, this.size.height / 2, factor);
    },

    schedule() {
      if (this.frame) return;
      this.frame = window.requestAnimationFrame(() => {
        this.frame = 0;
        const { x, y, scale } = this.view;
        const width = this.size.width / scale;
        const height = this.size.height / scale;
        this.svg.setAttribute("viewBox", `${x} ${y} ${width} ${height}`);
      });
    },

    onWheel(event) {
      event.preventDefault();
      const unit = event.deltaMode === 1 ? 0.05 : event.deltaMode === 2 ? 1 : 0.0015;
      const rect = this.graphBox.getBoundingClientRect();
      this.zoomAt(event.clientX - rect.left, event.clientY - rect.top, Math.exp(-event.deltaY * unit));
    },

    onPointerDown(event) {
      if (event.button !== 0 || (event.target.closest && event.target.closest("button"))) return;
      const [pointer, startX, startY, target] = [event.pointerId, event.clientX, event.clientY, event.target];
      this.drag = { pointer, startX, startY, target, view: { ...this.view }, moved: false };
      this.graphBox.setPointerCapture(event.pointerId);
    },

    onPointerMove(event) {
      const drag = this.drag;
      if (!drag || drag.pointer !== event.pointerId) return;
      const dx = event.clientX - drag.startX;
      const dy = event.clientY - drag.startY;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
      if (!drag.moved) this.graphBox.classList.add("gd-dragging");
      drag.moved = true;
      this.userMoved = true;
      this.view.x = drag.view.x - dx / this.view.scale;
      this.view.y = drag.view.y - dy / this.view.scale;
      this.schedule();
    },

    onPointerUp(event) {
      const drag = this.drag;
      if (!drag || drag.pointer !== event.pointerId) return;
      this.endDrag();
      if (drag.moved) return;
      // A click (no drag) on a node jumps to the step that runs it.
      const node = drag.target.closest && drag.target.closest("g.node");
      if (node && this.stepOfNode.has(node.dataset.node)) {
        this.stepTo(this.stepOfNode.get(node.dataset.node));
        this.root.focus({ preventScroll: true });
      }
    },

    endDrag() {
      if (this.drag && this.graphBox.hasPointerCapture(this.drag.pointer)) {
        this.graphBox.releasePointerCapture(this.drag.pointer);
      }
      this.drag = null;
      this.graphBox.classList.remove("gd-dragging");
    },
  };

  window.__gradientiGeometryV1 = { clamp, polyline, walker, shapeBox, labelMethods, panZoomMethods };
})();

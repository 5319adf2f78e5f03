/* gradienti's step-by-step view of the backward pass (no build step, no dependencies, no network).
 *
 * The page holds, inside one root `.gradienti-view`, the graph's SVG (make_dot's built-in drawing),
 * the controls, the explanation panel and the step model (JSON in `script.gd-model`). This script
 * turns every such root on the page into an independent viewer; it may be included several times
 * (Jupyter shows several views on one page): the code is defined once, and each run starts the
 * roots that have not been started yet.
 *
 * The state at step K is recomputed from scratch from steps[0..K-1] on every move, so going back
 * restores exactly the earlier picture.
 */
(() => {
  "use strict";

  const REGISTRY = "__gradientiPageV1";
  if (window[REGISTRY]) {
    window[REGISTRY].startAll();
    return;
  }

  const PLAY_INTERVAL_MS = 1300;
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
  const NARROW_PX = 760; // a view narrower than this puts the panel under the graph
  const STATE_CLASSES = ["gd-current", "gd-done", "gd-flowed", "gd-sending"];

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

  function readModel(root) {
    const holder = root.querySelector("script.gd-model");
    if (!holder) throw new Error("the page has no step model (script.gd-model)");
    const model = JSON.parse(holder.textContent);
    if (!model || !Array.isArray(model.steps)) throw new Error("the step model has no steps");
    return model;
  }

  class View {
    constructor(root) {
      this.root = root;
      this.model = readModel(root);
      this.mode = this.model.mode === "forward" ? "forward" : "backward";
      root.dataset.mode = this.mode;
      this.stepList = this.model.steps;
      this.steps = this.stepList.length;
      this.step = 0;
      this.nodeInfo = this.model.nodes || {};
      this.find = (selector) => root.querySelector(selector);
      this.graphBox = this.find(".gd-graph");
      this.svg = this.find(".gd-graph svg");
      this.text = this.find(".gd-explain pre");
      this.counter = this.find(".gd-counter");
      this.playButton = this.find(".gd-play");
      this.timer = null;
      this.marked = [];
      this.shownOverlays = [];
      this.labelCache = new Map();
      this.tickCache = new Map();
      this.boxCache = new Map();
      this.totalPlaces = new Map();
      this.labelPlaces = new Map();
      this.indexGraph();
      this.wireControls();
      this.watchWidth();
      this.wirePanZoom();
    }

    /* The view's width (not the window's) picks the layout. Switching it changes only the view's
     * height, so the observer cannot loop. */
    watchWidth() {
      const layout = () => this.root.classList.toggle("gd-narrow", this.root.clientWidth < NARROW_PX);
      if (window.ResizeObserver) new ResizeObserver(layout).observe(this.root);
      layout();
    }

    /* ------------------------------------------------------------ the SVG's nodes and edges */

    indexGraph() {
      this.nodes = new Map();
      this.edges = new Map();
      this.stepOfNode = new Map();
      if (!this.svg) return;
      this.layer = this.svg.querySelector("g.graph") || this.svg;
      const indexGroups = (selector, attribute, map) => {
        for (const group of this.svg.querySelectorAll(selector)) {
          const title = group.querySelector("title");
          if (!title) continue;
          group.setAttribute(attribute, title.textContent.trim());
          map.set(title.textContent.trim(), group);
        }
      };
      indexGroups("g.node", "data-node", this.nodes);
      indexGroups("g.edge", "data-edge", this.edges);
      this.stepList.forEach((step, index) => {
        if (!this.stepOfNode.has(step.node)) this.stepOfNode.set(step.node, index + 1);
        const group = this.nodes.get(step.node);
        if (group) group.classList.add("gd-has-step");
      });
      this.overlay = this.svg.ownerDocument.createElementNS(this.svg.namespaceURI, "g");
      this.overlay.setAttribute("class", "gd-overlay");
      this.layer.appendChild(this.overlay);
      // The layer's own transform (Graphviz writes one on g.graph; the built-in SVG none) maps
      // overlay coordinates to the viewBox's.
      const list = this.layer === this.svg ? null : this.layer.transform.baseVal.consolidate();
      this.layerMatrix = list ? list.matrix : null;
      const box = this.svg.viewBox.baseVal;
      this.contentBox =
        box && box.width > 0 && box.height > 0
          ? { x: box.x, y: box.y, width: box.width, height: box.height }
          : this.svg.getBBox();
      this.svg.removeAttribute("width");
      this.svg.removeAttribute("height");
      this.fitBox = this.unionWithTotals(this.contentBox);
      this.placeLabels();
    }

    make(tag, attributes, parent) {
      const element = this.svg.ownerDocument.createElementNS(this.svg.namespaceURI, tag);
      for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
      if (parent) parent.appendChild(element);
      return element;
    }

    nodeBox(id) {
      if (!this.boxCache.has(id)) this.boxCache.set(id, shapeBox(this.nodes.get(id)));
      return this.boxCache.get(id);
    }

    toViewBox(x, y) {
      const m = this.layerMatrix;
      return m ? { x: m.a * x + m.c * y + m.e, y: m.b * x + m.d * y + m.f } : { x, y };
    }

    /* "x.grad = 60 + 8 + 4 = 72" (the leaf's name from the model), or "grad = ..." unnamed. */
    totalFullText(total) {
      const name = (this.nodeInfo[total.node] || {}).name;
      return name ? `${name}.grad = ${total.text}` : `grad = ${total.text}`;
    }

    totalText(total) {
      return shortened(this.totalFullText(total), MAX_TOTAL_CHARS);
    }

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
    }

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
    }

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
    }

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
    }

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
    }

    tick(id) {
      if (!this.tickCache.has(id)) {
        const box = this.nodeBox(id);
        const mark = this.make("text", { class: "gd-tick", x: box.x + box.width + 3, y: box.y + 11 });
        mark.textContent = "\u2713";
        this.tickCache.set(id, mark);
      }
      return this.tickCache.get(id);
    }

    /* ------------------------------------------------------------ stepping */

    go(k) {
      const target = clamp(Math.round(Number(k)), 0, this.steps);
      if (!Number.isFinite(target)) return;
      this.step = target;
      this.render();
    }

    stateAt(k) {
      const done = new Set();
      const flowed = new Map(); // edge id -> {value, sending}; a later send along an edge wins
      const totals = new Map(); // node id -> total
      let current = null;
      for (let index = 0; index < k; index++) {
        const step = this.stepList[index];
        const last = index === k - 1;
        if (last) current = step.node;
        else done.add(step.node);
        for (const send of step.sends || []) {
          flowed.set(send.edge, { value: String(send.grad), sending: last });
        }
        if (step.total && step.total.node != null) totals.set(step.total.node, step.total);
      }
      done.delete(current);
      return { current, done, flowed, totals };
    }

    render() {
      const state = this.stateAt(this.step);
      for (const element of this.marked) element.classList.remove(...STATE_CLASSES);
      for (const element of this.shownOverlays) element.remove();
      this.marked = [];
      this.shownOverlays = [];
      const mark = (element, className) => {
        element.classList.add(className);
        this.marked.push(element);
      };
      const fragment = this.svg ? this.svg.ownerDocument.createDocumentFragment() : null;
      const show = (element) => {
        if (!element) return;
        fragment.appendChild(element);
        this.shownOverlays.push(element);
      };
      for (const id of state.done) {
        if (!this.nodes.has(id)) continue;
        mark(this.nodes.get(id), "gd-done");
        show(this.tick(id));
      }
      if (this.nodes.has(state.current)) mark(this.nodes.get(state.current), "gd-current");
      for (const [edgeId, flow] of state.flowed) {
        const edge = this.edges.get(edgeId);
        if (!edge) continue;
        mark(edge, "gd-flowed");
        if (flow.sending) mark(edge, "gd-sending");
        show(this.gradLabel(edgeId, flow.value, flow.sending));
      }
      for (const [id, total] of state.totals) {
        if (!this.nodes.has(id)) continue;
        const box = this.totalBox(total);
        const middle = box.y + box.height / 2;
        const pill = this.pill("total", this.totalText(total), this.totalFullText(total), box.x, middle);
        pill.dataset.node = id;
        show(pill);
      }
      if (fragment) this.overlay.appendChild(fragment);
      this.renderPanel();
    }

    renderPanel() {
      const k = this.step;
      this.counter.textContent = `step ${k} of ${this.steps}`;
      const pre = this.text;
      pre.textContent = "";
      if (k === 0) {
        pre.textContent = this.model.header || "";
      } else {
        const step = this.stepList[k - 1];
        const title = step.title || `Step ${k} of ${this.steps}`;
        let body = step.text || "";
        // explain's step text may start with the title line itself: show it once.
        if (body.split("\n", 1)[0].trim() === title.trim()) body = body.slice(body.indexOf("\n") + 1);
        const span = (className, text) => {
          const element = document.createElement("span");
          element.className = className;
          element.textContent = text;
          return element;
        };
        pre.append(span("gd-step-title", title), "\n" + body);
        // The newline keeps the copied text in lines; the footer's block box draws the gap.
        if (k === this.steps && this.model.footer) pre.append("\n", span("gd-footer", this.model.footer));
      }
      const atStart = k === 0;
      const atEnd = k === this.steps;
      this.setDisabled(".gd-first", atStart);
      this.setDisabled(".gd-prev", atStart);
      this.setDisabled(".gd-next", atEnd);
      this.setDisabled(".gd-last", atEnd);
    }

    setDisabled(selector, disabled) {
      const button = this.find(selector);
      if (!button || button.disabled === disabled) return;
      // A focused button that becomes disabled would drop the focus (and the arrow keys) to
      // the document: keep it on the view.
      if (disabled && document.activeElement === button) this.root.focus({ preventScroll: true });
      button.disabled = disabled;
    }

    play() {
      if (this.timer !== null) return;
      if (this.step >= this.steps) this.go(0);
      this.timer = window.setInterval(() => {
        // A view removed from the page (a notebook cell run again) stops its clock too.
        if (this.step >= this.steps || !this.root.isConnected) this.pause();
        else this.go(this.step + 1);
      }, PLAY_INTERVAL_MS);
      this.playButton.textContent = "Pause";
      this.playButton.setAttribute("aria-pressed", "true");
    }

    pause() {
      if (this.timer !== null) window.clearInterval(this.timer);
      this.timer = null;
      this.playButton.textContent = "Play";
      this.playButton.setAttribute("aria-pressed", "false");
    }

    togglePlay() {
      if (this.timer === null) this.play();
      else this.pause();
    }

    stepTo(k) {
      this.pause();
      this.go(k);
    }

    wireControls() {
      const on = (selector, action) => {
        const button = this.find(selector);
        if (button) button.addEventListener("click", action);
      };
      on(".gd-first", () => this.stepTo(0));
      on(".gd-prev", () => this.stepTo(this.step - 1));
      on(".gd-play", () => this.togglePlay());
      on(".gd-next", () => this.stepTo(this.step + 1));
      on(".gd-last", () => this.stepTo(this.steps));
      on(".gd-zoom-in", () => this.zoomAtCenter(1.25));
      on(".gd-zoom-out", () => this.zoomAtCenter(0.8));
      on(".gd-zoom-fit", () => this.fit());
      this.playButton.setAttribute("aria-pressed", "false");
      this.root.addEventListener("keydown", (event) => this.onKey(event));
    }

    onKey(event) {
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      const onButton = event.target.closest && event.target.closest("button");
      const actions = {
        ArrowLeft: () => this.stepTo(this.step - 1),
        ArrowRight: () => this.stepTo(this.step + 1),
        Home: () => this.stepTo(0),
        End: () => this.stepTo(this.steps),
        // Space on a focused button presses that button, as everywhere else.
        " ": onButton ? null : () => this.togglePlay(),
        "+": () => this.zoomAtCenter(1.25),
        "=": () => this.zoomAtCenter(1.25),
        "-": () => this.zoomAtCenter(0.8),
        0: () => this.fit(),
      };
      const action = actions[event.key];
      if (!action) return;
      // The key is the view's: the page (a notebook's own shortcuts) does not act on it too.
      event.preventDefault();
      event.stopPropagation();
      action();
    }

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
    }

    measure() {
      const width = this.graphBox.clientWidth;
      const height = this.graphBox.clientHeight;
      if (!width || !height) return; // hidden (a collapsed notebook output): wait for a size
      const first = !this.size.width;
      const centre = this.centre();
      this.size = { width, height };
      if (first || !this.userMoved) this.fit(false);
      else this.setCentre(centre);
    }

    centre() {
      const { x, y, scale } = this.view;
      return { x: x + this.size.width / (2 * scale), y: y + this.size.height / (2 * scale) };
    }

    setCentre(point) {
      const { scale } = this.view;
      this.view.x = point.x - this.size.width / (2 * scale);
      this.view.y = point.y - this.size.height / (2 * scale);
      this.schedule();
    }

    /* The width the zoom buttons take at the right: "fit" keeps the drawing (and a leaf's total
     * beside it) clear of them, in a narrow view too. */
    controlsWidth() {
      const zoom = this.find(".gd-zoom");
      return zoom ? zoom.offsetWidth + FIT_PADDING_PX : 0;
    }

    fitScale() {
      const box = this.fitBox;
      const room = (length) => Math.max(1, length - 2 * FIT_PADDING_PX);
      const width = room(this.size.width - this.controlsWidth());
      return Math.min(width / box.width, room(this.size.height) / box.height);
    }

    fit(byUser = true) {
      if (!this.size.width || !this.fitBox) return;
      if (byUser) this.userMoved = false;
      const box = this.fitBox;
      // Small graphs are not blown up past 2.5x: the boxes would look like a poster.
      this.view.scale = Math.min(this.fitScale(), 2.5);
      const shift = this.controlsWidth() / (2 * this.view.scale);
      this.setCentre({ x: box.x + box.width / 2 + shift, y: box.y + box.height / 2 });
    }

    zoomAt(px, py, factor) {
      if (!this.size.width) return;
      const { x, y, scale } = this.view;
      const fitted = this.fitScale();
      const next = clamp(scale * factor, Math.min(fitted / 4, 0.05), Math.max(fitted * 4, 8));
      // Keep the SVG point under the pointer where it is: x + px/scale == x' + px/scale'.
      this.view = { x: x + px / scale - px / next, y: y + py / scale - py / next, scale: next };
      this.userMoved = true;
      this.schedule();
    }

    zoomAtCenter(factor) {
      this.zoomAt(this.size.width / 2, this.size.height / 2, factor);
    }

    schedule() {
      if (this.frame) return;
      this.frame = window.requestAnimationFrame(() => {
        this.frame = 0;
        const { x, y, scale } = this.view;
        const width = this.size.width / scale;
        const height = this.size.height / scale;
        this.svg.setAttribute("viewBox", `${x} ${y} ${width} ${height}`);
      });
    }

    onWheel(event) {
      event.preventDefault();
      const unit = event.deltaMode === 1 ? 0.05 : event.deltaMode === 2 ? 1 : 0.0015;
      const rect = this.graphBox.getBoundingClientRect();
      this.zoomAt(event.clientX - rect.left, event.clientY - rect.top, Math.exp(-event.deltaY * unit));
    }

    onPointerDown(event) {
      if (event.button !== 0 || (event.target.closest && event.target.closest("button"))) return;
      const [pointer, startX, startY, target] = [event.pointerId, event.clientX, event.clientY, event.target];
      this.drag = { pointer, startX, startY, target, view: { ...this.view }, moved: false };
      this.graphBox.setPointerCapture(event.pointerId);
    }

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
    }

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
    }

    endDrag() {
      if (this.drag && this.graphBox.hasPointerCapture(this.drag.pointer)) {
        this.graphBox.releasePointerCapture(this.drag.pointer);
      }
      this.drag = null;
      this.graphBox.classList.remove("gd-dragging");
    }
  }

  /* #step=K (or #step=last) in the address opens every view at step K: for screenshots and docs. */
  function stepFromAddress(view) {
    const match = /(?:^#|&)step=(\d+|last)\b/.exec(window.location.hash || "");
    if (!match) return 0;
    return match[1] === "last" ? view.steps : Number(match[1]);
  }

  function start(root) {
    root.dataset.gdStarted = "1";
    let view;
    try {
      view = new View(root);
    } catch (error) {
      const pre = root.querySelector(".gd-explain pre");
      if (pre) {
        pre.textContent = `This view cannot start: ${error.message}`;
        pre.classList.add("gd-error");
      }
      console.error("gradienti view:", error);
      return;
    }
    window.gradientiViews.push(view);
    view.go(stepFromAddress(view));
    // Inside a notebook the keyboard belongs to the notebook until the user clicks the view.
    const inNotebook = document.querySelector(".jp-Notebook, #notebook-container, .notebook");
    if (document.querySelectorAll(".gradienti-view").length === 1 && !inNotebook) {
      root.focus({ preventScroll: true });
    }
  }

  function startAll() {
    // Views whose root left the page (a notebook cell run again) leave the list.
    const live = window.gradientiViews.filter((view) => view.root.isConnected);
    window.gradientiViews.splice(0, window.gradientiViews.length, ...live);
    for (const root of document.querySelectorAll(".gradienti-view:not([data-gd-started])")) start(root);
  }

  window.gradientiViews = window.gradientiViews || [];
  window[REGISTRY] = { startAll, View, stepFromAddress, polyline, walker };
  // Editing the address's #step=K moves the views there too (no reload happens for a hash).
  window.addEventListener("hashchange", () => {
    for (const view of window.gradientiViews) {
      if (view.root.isConnected && /step=/.test(window.location.hash)) view.stepTo(stepFromAddress(view));
    }
  });
  startAll();
})();

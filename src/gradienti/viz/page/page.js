/* gradienti's step-by-step view of the backward pass (no build step, no dependencies, no network).
 *
 * The page holds, inside one root `.gradienti-view`, the graph's SVG (make_dot's built-in drawing),
 * the controls, the explanation panel and the step model (JSON in `script.gd-model`). This script
 * turns every such root on the page into an independent viewer; it may be included several times
 * (Jupyter shows several views on one page): the code is defined once, and each run starts the
 * roots that have not been started yet.
 *
 * The state at step K is recomputed from scratch from steps[0..K-1] on every move, so going back
 * restores exactly the earlier picture. This file holds the state and the controls; the drawing
 * (pills, ticks) and pan/zoom are page_geometry.js's, which the page loads first.
 */
(() => {
  "use strict";

  const REGISTRY = "__gradientiPageV1";
  if (window[REGISTRY]) {
    window[REGISTRY].startAll();
    return;
  }

  const PLAY_INTERVAL_MS = 1300;
  const NARROW_PX = 760; // a view narrower than this puts the panel under the graph
  // page.css's sizes (px): the view's padding and border, the panel's width and share of the view,
  // the gap between graph and panel, "fit"'s margins with the zoom buttons; and the scale under
  // which a fitted drawing's text gets hard to read.
  const LAYOUT = { viewPadding: 30, panel: 680, panelShare: 0.58, gap: 14, margins: 90, readableScale: 0.75 };
  const STATE_CLASSES = ["gd-current", "gd-done", "gd-flowed", "gd-sending"];
  const { clamp, polyline, walker, labelMethods, panZoomMethods } = window.__gradientiGeometryV1;

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
      const layout = () => {
        const width = this.root.clientWidth;
        this.root.classList.toggle("gd-narrow", width < NARROW_PX || this.drawnBetterAlone(width));
      };
      if (window.ResizeObserver) new ResizeObserver(layout).observe(this.root);
      layout();
    }

    /* A wide drawing (rankdir="LR", a layer of long summaries) beside the panel would be fitted
     * so small that its text cannot be read: it gets the view's whole width, the panel under it.
     * Computed from the view's width alone (the sizes below are page.css's), never from the
     * layout it picks, so it gives the same answer in either layout. */
    drawnBetterAlone(width) {
      const box = this.fitBox;
      if (!box || !(box.width > 0) || !(box.height > 0)) return false;
      const inner = width - LAYOUT.viewPadding;
      const beside = inner - Math.min(LAYOUT.panel, LAYOUT.panelShare * inner) - LAYOUT.gap;
      const fitted = (frameWidth, frameHeight) =>
        Math.min((frameWidth - LAYOUT.margins) / box.width, (frameHeight - LAYOUT.margins) / box.height, 2.5);
      const tall = window.innerHeight;
      const besideScale = fitted(beside, clamp(0.74 * tall, 320, 820));
      const aloneScale = fitted(inner, 0.6 * tall);
      return besideScale < LAYOUT.readableScale && aloneScale > 1.5 * besideScale;
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
        // explain's step text may start with the title line itself (a forward pass's title
        // has "Pass 2 of 3 (d/dx) · " before it): show it once.
        const firstLine = body.split("\n", 1)[0].trim();
        if (firstLine && title.trim().endsWith(firstLine)) body = body.slice(body.indexOf("\n") + 1);
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
  }

  // Drawing and pan/zoom live in page_geometry.js.
  Object.assign(View.prototype, labelMethods, panZoomMethods);

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

/* Interactive figures of the book: plain JavaScript and SVG, no kernel, nothing fetched.
 *
 * A hidden code cell of a chapter writes <div class="softmax-widget" data-widget="..."
 * data-settings="{...}" data-fallback="fig-id" hidden>, with the raw outputs, species and
 * colours taken from the course's package. This script builds the figure inside it, shows it,
 * and marks the static fallback figure (for print and for readers without JavaScript) so the
 * stylesheet hides it on screen. Every number shown is computed here, in the page.
 */
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";

  /** SoftMax of an array of raw outputs, shifted by their maximum so e**z cannot overflow. */
  function softmax(raw) {
    const top = Math.max(...raw);
    const exps = raw.map((z) => Math.exp(z - top));
    const total = exps.reduce((a, b) => a + b, 0);
    return exps.map((e) => e / total);
  }

  /** One-hot ArgMax: 1 at the first largest raw output, 0 elsewhere. */
  function argmax(raw) {
    const winner = raw.indexOf(Math.max(...raw));
    return raw.map((_, i) => (i === winner ? 1 : 0));
  }

  function svgNode(name, attributes, parent) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    if (parent) parent.appendChild(node);
    return node;
  }

  function htmlNode(name, attributes, parent, text) {
    const node = document.createElement(name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  /** A labelled range input with a live read-out of its value; returns {input, readout}. */
  function slider(root, id, label, min, max, step, value) {
    const row = htmlNode("div", { class: "widget-control" }, root);
    htmlNode("label", { for: id }, row, label);
    const input = htmlNode("input", { type: "range", id, min, max, step, value }, row);
    const readout = htmlNode("output", { for: id, "data-role": "value" }, row);
    return { input, readout };
  }

  /** A read-out line per species, "species: value" for each prefix; returns {prefix: spans}. */
  function readouts(root, species, colours, prefixes) {
    const list = htmlNode("ul", { class: "widget-readout" }, root);
    const spans = Object.fromEntries(prefixes.map((prefix) => [prefix, []]));
    species.forEach((name, i) => {
      const item = htmlNode("li", {}, list);
      htmlNode("span", { class: "widget-swatch", style: `background:${colours[i]}` }, item);
      htmlNode("span", {}, item, `${name}:`);
      for (const prefix of prefixes) {
        spans[prefix].push(htmlNode("span", { "data-role": `${prefix}-${name}` }, item));
      }
    });
    return spans;
  }

  /** Bars of the probabilities at temperature T, where T = 10**slider. */
  function temperature(root, settings) {
    const { raw, species, colours } = settings;
    const control = slider(root, `${root.id}-log-t`, "temperature T (log scale)", -1, 2, 0.01, 0);
    const width = 360, height = 170, base = 140, top = 20, barWidth = 70;
    const svg = svgNode("svg", { class: "widget-plot", viewBox: `0 0 ${width} ${height}`,
      role: "img", "aria-label": "Bar chart of the three probabilities at the chosen temperature" }, root);
    svgNode("line", { x1: 20, x2: width - 20, y1: base, y2: base, class: "widget-axis" }, svg);
    const bars = species.map((name, i) => {
      const x = 40 + i * 110;
      const bar = svgNode("rect", { x, width: barWidth, fill: colours[i] }, svg);
      const label = svgNode("text", { x: x + barWidth / 2, "text-anchor": "middle" }, svg);
      svgNode("text", { x: x + barWidth / 2, y: base + 18, "text-anchor": "middle" }, svg)
        .textContent = name;
      return { bar, label };
    });
    const values = readouts(root, species, colours, ["p"]).p;
    function draw() {
      const t = 10 ** Number(control.input.value);
      control.readout.textContent = `T = ${t.toPrecision(3)}`;
      softmax(raw.map((z) => z / t)).forEach((p, i) => {
        const h = p * (base - top);
        bars[i].bar.setAttribute("y", base - h);
        bars[i].bar.setAttribute("height", h);
        bars[i].label.setAttribute("y", base - h - 5);
        bars[i].label.textContent = p.toFixed(3);
        values[i].textContent = p.toFixed(3);
      });
    }
    control.input.addEventListener("input", draw);
    draw();
  }

  /** One raw output moves; SoftMax's smooth curve against ArgMax's step for that output. */
  function softmaxVsArgmax(root, settings) {
    const { raw, species, colours, moving, range } = settings;
    const [low, high] = range;
    const control = slider(root, `${root.id}-z`, `raw output of ${species[moving]}`,
      low, high, 0.01, raw[moving]);
    const width = 360, height = 190, left = 40, right = 340, top = 15, base = 160;
    const x = (z) => left + ((z - low) / (high - low)) * (right - left);
    const y = (p) => base - p * (base - top);
    const svg = svgNode("svg", { class: "widget-plot", viewBox: `0 0 ${width} ${height}`,
      role: "img", "aria-label": `Output for ${species[moving]} against its raw output: ` +
        "SoftMax as a smooth curve, ArgMax as a step" }, root);
    svgNode("line", { x1: left, x2: right, y1: base, y2: base, class: "widget-axis" }, svg);
    svgNode("line", { x1: left, x2: left, y1: top, y2: base, class: "widget-axis" }, svg);
    for (const p of [0, 1]) {
      svgNode("text", { x: left - 6, y: y(p) + 4, "text-anchor": "end" }, svg).textContent = p;
    }
    svgNode("text", { x: (left + right) / 2, y: base + 24, "text-anchor": "middle" }, svg)
      .textContent = `raw output of ${species[moving]}`;
    const at = (z) => raw.map((value, i) => (i === moving ? z : value));
    const curve = (f) => Array.from({ length: 121 }, (_, k) => low + (k / 120) * (high - low))
      .map((z, k) => `${k ? "L" : "M"}${x(z).toFixed(1)},${y(f(at(z))[moving]).toFixed(1)}`).join("");
    svgNode("path", { d: curve(argmax), class: "widget-step", stroke: "#555555" }, svg);
    svgNode("path", { d: curve(softmax), class: "widget-curve", stroke: colours[moving] }, svg);
    const dotSoft = svgNode("circle", { r: 5, fill: colours[moving] }, svg);
    const dotArg = svgNode("circle", { r: 5, fill: "#555555" }, svg);
    htmlNode("p", { class: "widget-legend" }, root,
      "Coloured curve: SoftMax. Grey step: ArgMax.");
    const { p: soft, argmax: hard } = readouts(root, species, colours, ["p", "argmax"]);
    function draw() {
      const z = Number(control.input.value);
      control.readout.textContent = `${z.toFixed(2)}`;
      const p = softmax(at(z)), a = argmax(at(z));
      dotSoft.setAttribute("cx", x(z));
      dotSoft.setAttribute("cy", y(p[moving]));
      dotArg.setAttribute("cx", x(z));
      dotArg.setAttribute("cy", y(a[moving]));
      p.forEach((value, i) => { soft[i].textContent = `SoftMax ${value.toFixed(3)}`; });
      a.forEach((value, i) => { hard[i].textContent = `ArgMax ${value}`; });
    }
    control.input.addEventListener("input", draw);
    draw();
  }

  const WIDGETS = { temperature, "softmax-vs-argmax": softmaxVsArgmax };

  function start() {
    document.querySelectorAll(".softmax-widget[data-widget]").forEach((root) => {
      const build = WIDGETS[root.dataset.widget];
      if (!build) return;
      build(root, JSON.parse(root.dataset.settings));
      root.hidden = false;
      const fallback = document.getElementById(root.dataset.fallback);
      if (fallback) fallback.classList.add("widget-fallback");
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

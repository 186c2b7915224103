// Charts drawn as SVG from a JSON endpoint (config.dashboard.ChartData): stacked bars or lines,
// axis titles, a legend and an empty state, every word from the server in the user's language.
// Colours come from CSS classes (.series-<key> in panel.css): the Content-Security-Policy allows
// no style attributes, and no eval.
(function () {
  const NS = "http://www.w3.org/2000/svg";
  const HEIGHT = 280;
  const MARGIN = { top: 14, right: 16, bottom: 58, left: 60 };

  function svg(name, attrs, parent) {
    const node = document.createElementNS(NS, name);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (parent) parent.appendChild(node);
    return node;
  }

  function text(parent, x, y, content, attrs) {
    const node = svg("text", { x, y, ...(attrs || {}) }, parent);
    node.textContent = content;
    return node;
  }

  function tip(node, content) {
    svg("title", {}, node).textContent = content;
  }

  // a round step giving at most five gridlines above zero
  function yScale(max) {
    if (max <= 0) return { top: 1, step: 1 };
    const rough = max / 4;
    const power = Math.pow(10, Math.floor(Math.log10(rough)));
    const step = Math.max(1, [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough));
    return { top: Math.ceil(max / step) * step, step };
  }

  function number(value, lang) {
    return new Intl.NumberFormat(lang || undefined).format(value);
  }

  function draw(box, data) {
    const area = box.querySelector(".chart-area");
    const legend = box.querySelector(".chart-legend");
    area.replaceChildren();
    legend.replaceChildren();
    const lang = document.documentElement.lang;
    if (!data.total) {
      const empty = document.createElement("p");
      empty.className = "chart-empty";
      empty.textContent = data.empty;
      area.appendChild(empty);
      box.dataset.drawn = "empty";
      return;
    }
    const width = Math.max(320, Math.floor(area.clientWidth || 600));
    const plotW = width - MARGIN.left - MARGIN.right;
    const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
    const n = data.labels.length;
    const band = plotW / n;
    const stacked = data.kind === "bars";
    const totals = data.labels.map((_, i) => data.series.reduce((sum, s) => sum + s.values[i], 0));
    const max = stacked ? Math.max(...totals) : Math.max(...data.series.flatMap((s) => s.values));
    const { top, step } = yScale(max);
    const y = (value) => MARGIN.top + plotH - (value / top) * plotH;
    const x = (i) => MARGIN.left + band * i + band / 2;

    const chart = svg("svg", { width, height: HEIGHT, viewBox: `0 0 ${width} ${HEIGHT}`, class: `chart chart-${data.kind}` }, area);
    svg("title", {}, chart).textContent = box.querySelector("h2") ? box.querySelector("h2").textContent : "";
    const grid = svg("g", { class: "grid" }, chart);
    for (let value = 0; value <= top; value += step) {
      svg("line", { x1: MARGIN.left, x2: width - MARGIN.right, y1: y(value), y2: y(value) }, grid);
      text(grid, MARGIN.left - 6, y(value) + 4, number(value, lang), { "text-anchor": "end", class: "tick" });
    }
    // x labels: as many as fit without overlapping, always the last one
    const longest = Math.max(...data.labels.map((l) => l.length));
    const every = Math.max(1, Math.ceil(((longest * 6.5 + 10) * n) / plotW));
    const ticks = svg("g", { class: "x-ticks" }, chart);
    data.labels.forEach((label, i) => {
      if ((n - 1 - i) % every === 0) text(ticks, x(i), MARGIN.top + plotH + 16, label, { "text-anchor": "middle", class: "tick" });
    });
    svg("line", { x1: MARGIN.left, x2: width - MARGIN.right, y1: y(0), y2: y(0), class: "axis" }, chart);
    svg("line", { x1: MARGIN.left, x2: MARGIN.left, y1: MARGIN.top, y2: y(0), class: "axis" }, chart);
    text(chart, MARGIN.left + plotW / 2, HEIGHT - 10, data.x_label, { "text-anchor": "middle", class: "axis-title" });
    const yTitle = text(chart, 0, 0, data.y_label, { "text-anchor": "middle", class: "axis-title" });
    yTitle.setAttribute("transform", `translate(14 ${MARGIN.top + plotH / 2}) rotate(-90)`);

    const plot = svg("g", { class: "plot" }, chart);
    if (stacked) {
      const barW = Math.max(2, Math.min(36, band * 0.72));
      const base = data.labels.map(() => 0);
      for (const s of data.series) {
        s.values.forEach((value, i) => {
          if (!value) return;
          const rect = svg("rect", {
            x: x(i) - barW / 2,
            y: y(base[i] + value),
            width: barW,
            height: Math.max(1, y(base[i]) - y(base[i] + value)),
            class: `series series-${s.key}`,
          }, plot);
          tip(rect, `${data.labels[i]} · ${s.label}: ${number(value, lang)}`);
          base[i] += value;
        });
      }
    } else {
      for (const s of data.series) {
        if (!s.values.some(Boolean)) continue;
        if (n > 1) {
          const d = s.values.map((value, i) => `${i ? "L" : "M"}${x(i).toFixed(1)} ${y(value).toFixed(1)}`).join(" ");
          svg("path", { d, class: `series series-${s.key}` }, plot);
        }
        s.values.forEach((value, i) => {
          if (!value && n > 12) return; // zeros on a long line: the line says it
          const dot = svg("circle", { cx: x(i), cy: y(value), r: n > 40 ? 2.5 : 3.5, class: `series series-${s.key}` }, plot);
          tip(dot, `${data.labels[i]} · ${s.label}: ${number(value, lang)}`);
        });
      }
    }
    for (const s of data.series) {
      const item = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = `swatch series series-${s.key}`;
      const label = document.createElement("span");
      label.className = "label";
      label.textContent = s.label;
      const total = document.createElement("span");
      total.className = "total";
      total.textContent = number(s.values.reduce((a, b) => a + b, 0), lang);
      item.append(swatch, label, total);
      legend.appendChild(item);
    }
    box.dataset.drawn = "chart";
  }

  async function load(box) {
    try {
      const response = await fetch(box.dataset.chartUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(String(response.status));
      box.chartData = await response.json();
      draw(box, box.chartData);
    } catch (e) {
      const area = box.querySelector(".chart-area");
      area.replaceChildren();
      const failed = document.createElement("p");
      failed.className = "chart-empty errornote";
      failed.textContent = box.dataset.failed;
      area.appendChild(failed);
      box.dataset.drawn = "failed";
    }
  }

  function start() {
    const boxes = document.querySelectorAll(".panel-chart[data-chart-url]");
    boxes.forEach(load);
    let pending = null;
    window.addEventListener("resize", () => {
      clearTimeout(pending);
      pending = setTimeout(() => boxes.forEach((box) => box.chartData && draw(box, box.chartData)), 150);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

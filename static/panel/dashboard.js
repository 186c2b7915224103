// Refreshes the dashboard figures every 10 seconds without reloading the page.
(function () {
  const box = document.getElementById("panel-figures");
  if (!box) return;
  async function refresh() {
    try {
      const response = await fetch(box.dataset.url, { credentials: "same-origin" });
      if (!response.ok) return;
      const data = await response.json();
      for (const f of data.figures) {
        const el = box.querySelector(`[data-key="${CSS.escape(f.key)}"]`);
        if (!el) continue;
        el.querySelector(".value").textContent = f.value;
        el.querySelector(".detail").textContent = f.detail;
        el.className = `panel-figure state-${f.state}`;
      }
      box.dataset.refreshed = new Date().toISOString();
    } catch (e) { /* offline for a moment: keep the last figures */ }
  }
  setInterval(refresh, 10000);
})();

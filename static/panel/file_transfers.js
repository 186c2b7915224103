// File Transfers list: refresh status, progress, counts and the report link every 2 seconds
// while any visible transfer is queued or processing.
(function () {
  function ids() {
    return [...new Set([...document.querySelectorAll("[data-transfer]")].map((el) => el.dataset.transfer))];
  }
  function setCell(row, field, value) {
    const cells = { read: 5, created: 6, updated: 7, unchanged: 8, rejected: 9 };
    if (field in cells && row) {
      const td = row.querySelector(`td.field-${field}_count`);
      if (td) td.textContent = value;
    }
  }
  async function poll() {
    const list = ids();
    if (!list.length) return;
    const url = new URL("progress.json", window.location.href.split("?")[0].replace(/[^/]*$/, ""));
    url.searchParams.set("ids", list.join(","));
    let data;
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok) return;
      data = await response.json();
    } catch (e) { setTimeout(poll, 5000); return; }
    for (const t of data.transfers) {
      for (const el of document.querySelectorAll(`[data-transfer="${t.id}"]`)) {
        const field = el.dataset.field;
        if (field === "progress") { el.style.width = t.progress + "%"; el.parentElement.title = t.progress + "%"; }
        else if (field === "report") { if (t.report) { el.href = t.report; el.hidden = false; } }
        else if (field in t) el.textContent = t[field];
        const row = el.closest("tr");
        for (const f of ["read", "created", "updated", "unchanged", "rejected"]) setCell(row, f, t[f]);
        if (row) row.dataset.status = t.status;
      }
    }
    document.body.dataset.transfersActive = data.active.length;
    if (data.active.length) setTimeout(poll, 2000);
  }
  // The bars' widths come as data-width (the Content-Security-Policy allows no style attributes).
  function drawBars() {
    for (const el of document.querySelectorAll("[data-field=progress][data-width]")) el.style.width = el.dataset.width + "%";
  }
  document.addEventListener("DOMContentLoaded", () => { drawBars(); poll(); });
})();

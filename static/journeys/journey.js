/* Journeys: the journey form shows the fields of the chosen entry; the step form those of the
   chosen kind of step; the diagram's branches are joined to their steps by drawn lines. */
(function () {
  "use strict";

  var ENTRY_FIELDS = {
    list: ["entry_list"],
    event: ["entry_event"],
    consent: ["entry_consent_type", "entry_consent_status"],
    audience: ["entry_segment"]
  };

  function rowOf(name) {
    var field = document.getElementById("id_" + name);
    return field ? field.closest(".form-row, .fieldBox") : null;
  }

  function showEntry() {
    var chosen = document.querySelector("input[name=entry]:checked");
    if (!chosen) { return; }
    Object.keys(ENTRY_FIELDS).forEach(function (entry) {
      ENTRY_FIELDS[entry].forEach(function (name) {
        var row = rowOf(name);
        if (row) { row.hidden = entry !== chosen.value; }
      });
    });
    var pair = rowOf("entry_consent_type");
    if (pair && pair.parentElement.closest(".form-row")) {
      pair.parentElement.closest(".form-row").hidden = chosen.value !== "consent";
    }
  }

  function stepKind(form) {
    var select = form.querySelector("select[name=type]");
    return select ? select.value : form.dataset.type;
  }

  function showStep(form) {
    var kind = stepKind(form);
    form.querySelectorAll("[data-kinds]").forEach(function (row) {
      row.hidden = row.dataset.kinds.split(" ").indexOf(kind) < 0;
    });
    if (kind === "wait") {
      var mode = form.querySelector("input[name=wait_mode]:checked");
      var until = mode && mode.value === "until";
      ["amount", "unit"].forEach(function (name) {
        var row = form.querySelector(".field-" + name);
        if (row) { row.hidden = until; }
      });
      var untilRow = form.querySelector(".field-until");
      if (untilRow) { untilRow.hidden = !until; }
    }
  }

  function line(svg, x1, y1, x2, y2, css) {
    var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    var mid = (y1 + y2) / 2;
    path.setAttribute("d", "M" + x1 + " " + y1 + " C " + x1 + " " + mid + ", " + x2 + " " + mid + ", " + x2 + " " + y2);
    path.setAttribute("class", css);
    svg.appendChild(path);
  }

  function drawLines(canvas) {
    var svg = canvas.querySelector(".jd-lines");
    var box = canvas.getBoundingClientRect();
    svg.setAttribute("width", canvas.scrollWidth);
    svg.setAttribute("height", canvas.scrollHeight);
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    function join(from, target, css) {
      var to = canvas.querySelector("#jd-" + CSS.escape(target));
      if (!to) { return; }
      var a = from.getBoundingClientRect();
      var b = to.getBoundingClientRect();
      line(svg, a.left + a.width / 2 - box.left, a.bottom - box.top, b.left + b.width / 2 - box.left, b.top - box.top, css);
    }
    var entry = canvas.querySelector(".jd-entry");
    if (entry && entry.dataset.next) { join(entry, entry.dataset.next, "jd-line"); }
    canvas.querySelectorAll("li[data-target]").forEach(function (li) {
      if (li.dataset.target) { join(li, li.dataset.target, "jd-line " + li.className); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (document.querySelector("input[name=entry]")) {
      document.querySelectorAll("input[name=entry]").forEach(function (input) {
        input.addEventListener("change", showEntry);
      });
      showEntry();
    }
    var form = document.querySelector(".journey-step-form");
    if (form) {
      form.addEventListener("change", function () { showStep(form); });
      showStep(form);
    }
    var canvas = document.querySelector(".jd-canvas");
    if (canvas) {
      drawLines(canvas);
      window.addEventListener("resize", function () { drawLines(canvas); });
    }
  });
})();

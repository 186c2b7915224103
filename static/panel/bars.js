// Bar charts: each bar's width comes as data-width (a percentage), since the
// Content-Security-Policy allows no style attributes.
(function () {
  function draw() {
    for (const el of document.querySelectorAll(".bar[data-width]")) el.style.width = el.dataset.width + "%";
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();

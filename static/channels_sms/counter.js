// Live SMS counter: asks the server, which counts exactly as the dispatcher does (providers.md §7).
(function () {
  function attach(box) {
    var input = document.getElementById(box.dataset.for);
    if (!input) return;
    var timer = null;
    function update() {
      fetch(box.dataset.url + "?text=" + encodeURIComponent(input.value), {credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (c) {
          box.textContent = c.encoding + " · " + c.characters + " characters · " + c.segments +
            " segment(s) · " + c.remaining + " left in the last one";
        });
    }
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(update, 200); });
    update();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".sms-counter").forEach(attach);
    var text = document.getElementById("id_text");
    var url = document.querySelector("[data-counter-url]");
    if (text && !document.querySelector(".sms-counter") && url) {
      var box = document.createElement("div");
      box.className = "sms-counter help";
      box.dataset.url = url.dataset.counterUrl;
      box.dataset.for = "id_text";
      text.parentNode.appendChild(box);
      attach(box);
    }
  });
})();

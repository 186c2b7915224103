// Live SMS counter: the server renders the text for a sample contact and counts it exactly as the
// dispatcher does (providers.md §7); its answer is already in the user's language.
(function () {
  function line(box, className, text) {
    var el = box.querySelector("." + className);
    if (!text) { if (el) el.remove(); return; }
    if (!el) { el = document.createElement("div"); el.className = className; box.appendChild(el); }
    el.textContent = text;
  }
  function attach(box) {
    var input = document.getElementById(box.dataset.for);
    if (!input) return;
    var account = document.getElementById("id_account");
    var timer = null;
    function update() {
      var url = box.dataset.url + "?text=" + encodeURIComponent(input.value);
      if (account && account.value) url += "&account=" + encodeURIComponent(account.value);
      fetch(url, {credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (c) {
          box.textContent = "";
          line(box, "counter-summary", c.summary);
          line(box, "counter-sample", c.sample || "");
          line(box, "counter-ucs2", c.ucs2_note || "");
        });
    }
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(update, 200); });
    if (account) account.addEventListener("change", update);
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

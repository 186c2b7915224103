// A campaign's audience: only the fields of the chosen audience are shown (a list, a filter,
// an alert number); the server empties the others on save (messaging.forms.CampaignFormParts).
(function () {
  const FIELDS = { list: ["contact_list"], segment: ["segment"], filter: ["audience_filter"], alert: ["alert_phone"] };
  const ALL = ["contact_list", "segment", "audience_filter", "alert_phone"];

  function follow(select) {
    const shown = FIELDS[select.value] || [];
    for (const name of ALL) {
      const row = document.querySelector(".form-row.field-" + name);
      if (row) row.classList.toggle("audience-hidden", !shown.includes(name));
    }
  }

  function start() {
    const select = document.querySelector("select[data-audience-fields]");
    if (!select) return;
    select.addEventListener("change", () => follow(select));
    follow(select);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

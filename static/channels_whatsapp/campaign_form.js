// The WhatsApp campaign form: the list and the filter rows show only for the audience that uses
// them (channels_whatsapp/admin.py WhatsAppCampaignAdmin). No inline script or style (CSP).
(function () {
  "use strict";

  var ROWS = {contact_list: "list", audience_filter: "filter"};

  function follow(audience) {
    Object.keys(ROWS).forEach(function (name) {
      var row = document.querySelector(".form-row.field-" + name);
      if (row) row.classList.toggle("wa-hidden", audience.value !== ROWS[name]);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var audience = document.getElementById("id_audience");
    if (!audience || audience.tagName !== "SELECT") return; // read-only once the campaign started
    audience.addEventListener("change", function () { follow(audience); });
    follow(audience);
  });
})();

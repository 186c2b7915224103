// Periodic task form (django-celery-beat): shows the chosen crontab in words under the field.
// Moved out of the package's template, whose inline script the Content-Security-Policy blocks.
(function () {
  const script = document.currentScript;
  const $ = window.django && window.django.jQuery;
  const data = document.getElementById("readable-crontabs");
  if (!$ || !data) return;
  const readableCrontabs = JSON.parse(data.textContent);
  const originalHelp = script.dataset.crontabHelp || "";
  function updateCrontabHelp(additional) {
    const help = document.querySelector(".field-crontab .help");
    if (!help) return;
    help.replaceChildren(document.createTextNode(originalHelp), document.createElement("br"),
      document.createTextNode("Translation: " + (additional || "")));
  }
  $(".field-crontab_translation").hide();
  $(".field-crontab").change(function () {
    updateCrontabHelp(readableCrontabs[$("#id_crontab").val()]);
  });
})();

// The contact page's profile attributes: rows of name and value, added and removed here; the
// form posts them as attributes-name / attributes-value pairs (contacts.forms.AttributesWidget).
"use strict";
(function () {
  function setUp(editor) {
    const body = editor.querySelector(".attributes-rows tbody");
    const template = editor.querySelector("template.attribute-row-template");
    editor.querySelector(".attribute-add").addEventListener("click", function () {
      const row = template.content.firstElementChild.cloneNode(true);
      body.appendChild(row);
      row.querySelector(".attribute-name").focus();
    });
    editor.addEventListener("click", function (event) {
      const button = event.target.closest(".attribute-remove");
      if (button) {
        button.closest("tr").remove();
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-attributes-editor]").forEach(setUp);
  });
})();

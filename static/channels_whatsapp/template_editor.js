// The WhatsApp template editor (channels_whatsapp/editor.py): a live preview of the message as the
// phone shows it, the inputs each header type and button kind needs, a variable's rows once the
// variable is typed, and a character counter on every field with a limit. What the user types only
// ever reaches the page as textContent (never innerHTML), and no inline style is written (CSP).
(function () {
  "use strict";

  var VARIABLE = /\{\{([1-9][0-9]*)\}\}/g;
  var BODY_VARIABLES = 10;
  var CTA_SLOTS = ["button_1", "button_2"];
  var MEDIA = ["image", "video", "document"];
  // WhatsApp's formatting: *bold*, _italic_, ~strikethrough~, ```monospace```
  var MARKS = [["```", "code"], ["*", "strong"], ["_", "em"], ["~", "s"]];
  var EDGE = /[\s.,;:!?'"()[\]{}<>/\\-]/;

  function length(text) {
    return Array.from(text).length; // code points, as the server counts (Python's len)
  }

  function numbers(text) {
    var found = [];
    (text || "").replace(VARIABLE, function (match, n) { found.push(Number(n)); return match; });
    return found;
  }

  function Editor(panel, form) {
    this.panel = panel;
    this.form = form;
    this.parts = {};
    var parts = panel.querySelectorAll("[data-wa-part]");
    for (var i = 0; i < parts.length; i++) this.parts[parts[i].dataset.waPart] = parts[i];
  }

  Editor.prototype.field = function (name) {
    var element = this.form.elements.namedItem(name);
    return element && element.nodeType === 1 ? element : null;
  };

  Editor.prototype.value = function (name) {
    var element = this.field(name);
    if (!element) return "";
    return element.type === "checkbox" ? element.checked : element.value.trim();
  };

  Editor.prototype.choiceLabel = function (name) {
    var element = this.field(name);
    var option = element && element.options ? element.options[element.selectedIndex] : null;
    return option ? option.text : "";
  };

  // A field's row: the admin's .form-row (a variable's three fields share one), else its parent
  Editor.prototype.show = function (name, visible) {
    var element = this.field(name);
    if (!element) return;
    var row = element.closest(".form-row") || element.parentElement;
    row.classList.toggle("wa-hidden", !visible);
  };

  Editor.prototype.example = function (slot) {
    return this.value(slot + "_example") || this.value(slot + "_default");
  };

  Editor.prototype.addCounters = function () {
    var limited = this.form.querySelectorAll("[data-wa-limit]");
    this.counters = [];
    for (var i = 0; i < limited.length; i++) {
      var counter = document.createElement("span");
      counter.className = "wa-counter";
      counter.setAttribute("aria-live", "polite");
      limited[i].insertAdjacentElement("afterend", counter);
      this.counters.push([limited[i], counter]);
    }
  };

  Editor.prototype.updateCounters = function () {
    this.counters.forEach(function (pair) {
      var used = length(pair[0].value.replace(/\r\n/g, "\n"));
      var limit = Number(pair[0].dataset.waLimit);
      pair[1].textContent = used + " / " + limit;
      pair[1].classList.toggle("wa-over", used > limit);
    });
  };

  Editor.prototype.updateRows = function () {
    var headerType = this.value("header_type");
    var headerVariables = headerType === "text" ? numbers(this.value("header_text")) : [];
    this.show("header_text", headerType === "text");
    this.show("header_example", headerVariables.indexOf(1) >= 0);
    this.show("header_media_url", MEDIA.indexOf(headerType) >= 0);
    var used = numbers(this.value("body"));
    for (var n = 1; n <= BODY_VARIABLES; n++) this.show("body_" + n + "_example", used.indexOf(n) >= 0);
    var self = this;
    CTA_SLOTS.forEach(function (slot) {
      var kind = self.value(slot + "_type");
      self.show(slot + "_text", kind !== "");
      self.show(slot + "_url", kind === "url");
      self.show(slot + "_phone", kind === "phone");
      self.show(slot + "_example", kind === "url" && numbers(self.value(slot + "_url")).length > 0);
    });
    this.show("stop_button_text", this.value("stop_button"));
  };

  // --- the preview ------------------------------------------------------------------------------
  function appendVariables(parent, text, values) {
    var last = 0;
    text.replace(VARIABLE, function (match, n, at) {
      if (at > last) parent.appendChild(document.createTextNode(text.slice(last, at)));
      var chip = document.createElement("span");
      chip.className = values[n] ? "wa-var" : "wa-var wa-var-missing";
      chip.textContent = values[n] || match;
      parent.appendChild(chip);
      last = at + match.length;
      return match;
    });
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  // The earliest well-formed pair of marks: the opening one at a word's start and followed by a
  // character, the closing one after a character and at a word's end (so snake_case stays plain).
  function findMark(text) {
    var best = null;
    MARKS.forEach(function (mark) {
      var sign = mark[0];
      for (var start = text.indexOf(sign); start >= 0; start = text.indexOf(sign, start + 1)) {
        if (best && start >= best.start) return;
        var before = text.charAt(start - 1);
        var first = text.charAt(start + sign.length);
        if ((start > 0 && !EDGE.test(before)) || !first || /\s/.test(first)) continue;
        for (var end = text.indexOf(sign, start + sign.length + 1); end >= 0; end = text.indexOf(sign, end + 1)) {
          var inner = text.slice(start + sign.length, end);
          var after = text.charAt(end + sign.length);
          if (sign.length === 1 && inner.indexOf("\n") >= 0) break;
          if (!/\s/.test(inner.charAt(inner.length - 1)) && (!after || EDGE.test(after))) {
            best = {start: start, end: end, sign: sign, tag: mark[1]};
            return;
          }
        }
      }
    });
    return best;
  }

  function appendFormatted(parent, text, values) {
    var mark = findMark(text);
    if (!mark) {
      appendVariables(parent, text, values);
      return;
    }
    appendVariables(parent, text.slice(0, mark.start), values);
    var styled = document.createElement(mark.tag);
    appendFormatted(styled, text.slice(mark.start + mark.sign.length, mark.end), values);
    parent.appendChild(styled);
    appendFormatted(parent, text.slice(mark.end + mark.sign.length), values);
  }

  function fileName(link) {
    var path = link.split(/[?#]/)[0].replace(/\/+$/, "");
    var name = path.slice(path.lastIndexOf("/") + 1);
    try {
      return decodeURIComponent(name);
    } catch (error) {
      return name;
    }
  }

  Editor.prototype.stopLabel = function () {
    var language = this.field("language");
    var labels = language ? JSON.parse(language.dataset.waStopLabels || "{}") : {};
    var code = language ? language.value.split("_")[0] : "";
    return this.value("stop_button_text") || labels[code] || labels.en || "";
  };

  Editor.prototype.renderHeader = function () {
    var kind = this.value("header_type");
    var header = this.parts.header;
    var media = this.parts.media;
    header.textContent = "";
    header.hidden = !(kind === "text" && this.value("header_text"));
    if (!header.hidden) appendVariables(header, this.value("header_text"), {1: this.example("header")});
    media.hidden = MEDIA.indexOf(kind) < 0;
    if (!media.hidden) {
      media.className = "wa-media wa-media-" + kind;
      this.parts["media-icon"].className = "wa-media-icon wa-icon-" + kind;
      this.parts["media-kind"].textContent = this.choiceLabel("header_type");
      this.parts["media-file"].textContent = fileName(this.value("header_media_url"));
    }
  };

  Editor.prototype.renderButtons = function () {
    var self = this;
    var buttons = [];
    CTA_SLOTS.forEach(function (slot) {
      var kind = self.value(slot + "_type");
      if (kind) buttons.push([kind, self.value(slot + "_text") || self.choiceLabel(slot + "_type")]);
    });
    if (this.value("stop_button")) buttons.push(["reply", this.stopLabel()]);
    var box = this.parts.buttons;
    box.textContent = "";
    buttons.forEach(function (button) {
      var row = document.createElement("div");
      row.className = "wa-button wa-button-" + button[0];
      var icon = document.createElement("span");
      icon.className = "wa-button-icon";
      icon.setAttribute("aria-hidden", "true");
      var label = document.createElement("span");
      label.className = "wa-button-label";
      label.textContent = button[1];
      row.appendChild(icon);
      row.appendChild(label);
      box.appendChild(row);
    });
    box.hidden = buttons.length === 0;
    this.panel.classList.toggle("wa-has-buttons", buttons.length > 0);
  };

  Editor.prototype.render = function () {
    this.renderHeader();
    var body = this.value("body");
    var values = {};
    for (var n = 1; n <= BODY_VARIABLES; n++) values[n] = this.example("body_" + n);
    this.parts.body.textContent = "";
    appendFormatted(this.parts.body, body, values);
    this.parts.body.hidden = !body;
    this.parts.empty.hidden = Boolean(body);
    this.parts.footer.textContent = this.value("footer");
    this.parts.footer.hidden = !this.value("footer");
    this.renderButtons();
  };

  Editor.prototype.update = function () {
    this.updateRows();
    this.updateCounters();
    this.render();
  };

  // A stop label still at some language's default follows the template's language
  Editor.prototype.followLanguage = function () {
    var language = this.field("language");
    var stop = this.field("stop_button_text");
    if (!language || !stop) return;
    var labels = JSON.parse(language.dataset.waStopLabels || "{}");
    var defaults = Object.keys(labels).map(function (code) { return labels[code]; });
    language.addEventListener("change", function () {
      var label = labels[language.value.split("_")[0]] || labels.en;
      if (label && (!stop.value.trim() || defaults.indexOf(stop.value.trim()) >= 0)) stop.value = label;
    });
  };

  Editor.prototype.start = function () {
    var self = this;
    var now = new Date();
    this.parts.time.textContent = ("0" + now.getHours()).slice(-2) + ":" + ("0" + now.getMinutes()).slice(-2);
    this.addCounters();
    this.followLanguage();
    this.form.addEventListener("input", function () { self.update(); });
    this.form.addEventListener("change", function () { self.update(); });
    this.update();
  };

  document.addEventListener("DOMContentLoaded", function () {
    var panels = document.querySelectorAll("[data-wa-preview]");
    for (var i = 0; i < panels.length; i++) {
      var panel = panels[i];
      var form = panel.dataset.waForm ? document.getElementById(panel.dataset.waForm) : panel.closest("form");
      if (form) new Editor(panel, form).start();
    }
  });
})();

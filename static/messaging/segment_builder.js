// The audience builder: each condition is a row of selects and inputs drawn from the choices the
// server gives (#segment-choices); the hidden definition field is rewritten on every change and
// the number of matching contacts is asked for again (count.json). User text is only ever set as
// text or values, never as HTML. No inline script or style (CSP).
(function () {
  "use strict";

  function el(tag, props, children) {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    for (const child of children || []) node.append(child);
    return node;
  }

  function select(options, value, className) {
    const node = el("select", { className: className || "" });
    for (const [v, label] of options) node.append(el("option", { value: String(v), textContent: label }));
    if (value !== undefined && value !== null) node.value = String(value);
    return node;
  }

  const word = (text) => el("span", { className: "word", textContent: text });

  function csrf() {
    const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function start(root) {
    const C = JSON.parse(document.getElementById("segment-choices").textContent);
    const input = document.getElementById(root.dataset.input);
    const list = root.querySelector(".segment-conditions");
    const counter = root.querySelector(".segment-count");
    let definition;
    try { definition = JSON.parse(input.value || "{}"); } catch (e) { definition = {}; }
    if (!Array.isArray(definition.conditions)) definition.conditions = [];
    if (definition.match !== "any") definition.match = "all";

    const match = select([["all", C.words.all], ["any", C.words.any]], definition.match, "segment-match-choice");
    match.addEventListener("change", () => { definition.match = match.value; changed(); });
    root.querySelector(".segment-match").append(match);
    const add = root.querySelector(".segment-add");
    add.textContent = C.words.add;
    add.addEventListener("click", () => { definition.conditions.push(fresh("attribute")); draw(); changed(); });

    const ops = (type) => C.type_operators[type].map((op) => [op, C.operators[op]]);

    function fresh(type) {
      const c = { type: type, op: C.type_operators[type][0] };
      if (type === "field") c.field = C.fields[0].value;
      if (type === "attribute") c.name = C.attributes[0] || "";
      if (type === "choice") { c.field = C.choice_fields[0].value; c.value = C.choice_fields[0].choices[0][0]; }
      if (type === "list" && C.lists.length) c.list = C.lists[0].value;
      if (type === "consent") { c.consent_type = C.consent_types[0][0]; c.value = C.consent_states[0][0]; }
      if (type === "sms_received") { c.campaign = null; c.kind = ""; c.period = "any_time"; c.min_times = 1; }
      return c;
    }

    function bind(node, apply, event) {
      node.addEventListener(event || "change", () => { apply(node); changed(); });
      return node;
    }

    function valueInput(c, many) {
      if (many) {
        const area = el("textarea", { className: "values", placeholder: C.words.separate });
        area.value = Array.isArray(c.value) ? c.value.join("\n") : "";
        return bind(area, (n) => { c.value = n.value.split("\n").map((v) => v.trim()).filter(Boolean); }, "input");
      }
      const text = el("input", { type: "text", className: "value" });
      text.value = c.value === undefined || c.value === null ? "" : String(c.value);
      return bind(text, (n) => { c.value = n.value; }, "input");
    }

    function seenValues(c, row) {
      const box = el("div", { className: "seen" });
      row.append(box);
      if (!c.name) return;
      fetch(root.dataset.valuesUrl + "?name=" + encodeURIComponent(c.name), { credentials: "same-origin" })
        .then((r) => r.json())
        .then((data) => {
          if (!data.values || !data.values.length) return;
          box.append(C.words.values_seen + " ");
          for (const v of data.values) {
            const chip = el("button", { type: "button", textContent: v });
            chip.addEventListener("click", () => {
              if (c.op === "any_of") c.value = [...new Set([...(c.value || []), v])];
              else c.value = v;
              draw(); changed();
            });
            box.append(chip);
          }
        })
        .catch(() => {});
    }

    function parts(c, row, index) {
      const type = select(C.types.map((t) => [t.value, t.label]), c.type, "type");
      type.addEventListener("change", () => { definition.conditions[index] = fresh(type.value); draw(); changed(); });
      row.append(type);
      const op = () => {
        const node = select(ops(c.type), c.op, "op");
        node.addEventListener("change", () => { c.op = node.value; if (c.op === "any_of" || c.value === undefined) c.value = c.op === "any_of" ? [] : ""; draw(); changed(); });
        return node;
      };
      if (c.type === "field") {
        row.append(bind(select(C.fields.map((f) => [f.value, f.label]), c.field, "field"), (n) => { c.field = n.value; }), op());
        if (!["is_set", "is_empty"].includes(c.op)) row.append(valueInput(c, c.op === "any_of"));
      } else if (c.type === "attribute") {
        const id = "segment-attributes";
        if (!document.getElementById(id)) {
          const options = el("datalist", { id: id });
          for (const name of C.attributes) options.append(el("option", { value: name }));
          root.append(options);
        }
        const name = el("input", { type: "text", className: "name" });
        name.setAttribute("list", id);
        name.value = c.name || "";
        name.addEventListener("change", () => { c.name = name.value.trim(); draw(); changed(); });
        row.append(name, op());
        if (!["is_set", "is_empty"].includes(c.op)) row.append(valueInput(c, c.op === "any_of"));
        seenValues(c, row);
      } else if (c.type === "choice") {
        const field = C.choice_fields.find((f) => f.value === c.field) || C.choice_fields[0];
        const fieldSelect = select(C.choice_fields.map((f) => [f.value, f.label]), c.field, "field");
        fieldSelect.addEventListener("change", () => {
          c.field = fieldSelect.value;
          const first = C.choice_fields.find((f) => f.value === c.field).choices[0][0];
          c.value = c.op === "any_of" ? [first] : first;
          draw(); changed();
        });
        row.append(fieldSelect, op());
        const values = select(field.choices, null, "value");
        if (c.op === "any_of") {
          values.multiple = true;
          const chosen = Array.isArray(c.value) ? c.value : [c.value];
          for (const option of values.options) option.selected = chosen.includes(option.value);
          row.append(bind(values, (n) => { c.value = [...n.selectedOptions].map((o) => o.value); }));
        } else {
          values.value = Array.isArray(c.value) ? c.value[0] : c.value;
          c.value = values.value;
          row.append(bind(values, (n) => { c.value = n.value; }));
        }
      } else if (c.type === "list") {
        row.append(op(), bind(select(C.lists.map((l) => [l.value, l.label]), c.list, "list"), (n) => { c.list = Number(n.value); }));
      } else if (c.type === "consent") {
        row.append(
          bind(select(C.consent_types, c.consent_type, "consent-type"), (n) => { c.consent_type = n.value; }),
          op(),
          bind(select(C.consent_states, c.value, "value"), (n) => { c.value = n.value; })
        );
      } else if (c.type === "sms_received") {
        const campaigns = [["", C.words.any_sms], ...C.campaigns.map((k) => [k.value, k.label])];
        row.append(
          op(),
          bind(select(campaigns, c.campaign === null ? "" : c.campaign, "campaign"), (n) => { c.campaign = n.value ? Number(n.value) : null; }),
          bind(select(C.kinds, c.kind || "", "kind"), (n) => { c.kind = n.value; })
        );
        const period = select(C.periods, c.period || "any_time", "period");
        period.addEventListener("change", () => { c.period = period.value; draw(); changed(); });
        row.append(period);
        if (c.period === "last_days") {
          const days = el("input", { type: "number", min: 1, max: 3650, className: "number days" });
          days.value = c.days || 30;
          c.days = Number(days.value);
          row.append(bind(days, (n) => { c.days = Number(n.value); }, "input"), word(C.words.days));
        } else if (c.period === "on") {
          row.append(bind(el("input", { type: "date", value: c.on || "", className: "on" }), (n) => { c.on = n.value; }));
        } else if (c.period === "between") {
          row.append(
            bind(el("input", { type: "date", value: c.since || "", className: "since" }), (n) => { c.since = n.value; }),
            word("–"),
            bind(el("input", { type: "date", value: c.until || "", className: "until" }), (n) => { c.until = n.value; })
          );
        }
        const times = el("input", { type: "number", min: 1, max: 1000, className: "number times" });
        times.value = c.min_times || 1;
        row.append(word(C.words.at_least), bind(times, (n) => { c.min_times = Number(n.value); }, "input"), word(C.words.times));
        const unreported = el("input", { type: "checkbox", className: "unreported", checked: !!c.count_unreported });
        row.append(el("label", { className: "unreported" }, [bind(unreported, (n) => { c.count_unreported = n.checked; }), " " + C.words.unreported]));
      }
    }

    function draw() {
      list.replaceChildren();
      definition.conditions.forEach((c, index) => {
        const row = el("li", { className: "condition" });
        parts(c, row, index);
        const remove = el("button", { type: "button", className: "button remove", textContent: C.words.remove });
        remove.addEventListener("click", () => { definition.conditions.splice(index, 1); draw(); changed(); });
        row.insertBefore(remove, row.querySelector(".seen"));
        list.append(row);
      });
      if (!definition.conditions.length) list.append(el("li", { className: "empty", textContent: C.words.none }));
    }

    let timer = null;
    let asked = 0;
    function changed() {
      input.value = JSON.stringify(definition);
      counter.classList.remove("problem");
      counter.textContent = C.words.counting;
      clearTimeout(timer);
      timer = setTimeout(count, 350);
    }

    function count() {
      const mine = ++asked;
      fetch(root.dataset.countUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
        body: input.value,
      })
        .then((r) => r.json())
        .then((data) => {
          if (mine !== asked) return; // an older answer arriving late
          if (data.problems) {
            counter.classList.add("problem");
            counter.textContent = data.problems.join("; ");
          } else {
            counter.textContent = C.words.count.replace("%(n)s", Number(data.count).toLocaleString(document.documentElement.lang));
          }
        })
        .catch(() => { counter.textContent = ""; });
    }

    draw();
    changed();
  }

  function init() { for (const root of document.querySelectorAll(".segment-builder")) start(root); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();

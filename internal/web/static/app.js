// capstan's UI works without this script; it adds live execution updates,
// rows for list and map parameters, and checks a runbook's form before it
// is sent, with the messages the server gives.
"use strict";

function live() {
  const el = document.getElementById("live");
  if (!el || el.hasAttribute("data-done") || !window.EventSource) return;
  const es = new EventSource(el.dataset.src);
  es.addEventListener("update", (e) => { el.innerHTML = e.data; });
  es.addEventListener("done", (e) => { el.innerHTML = e.data; el.setAttribute("data-done", ""); es.close(); });
  es.addEventListener("failed", () => es.close());
}

function addRows() {
  document.querySelectorAll("button.add").forEach((b) => {
    b.addEventListener("click", () => {
      const box = b.previousElementSibling;
      const last = box.lastElementChild;
      if (!last) return;
      const copy = last.cloneNode(true);
      copy.removeAttribute("id");
      (copy.matches("input") ? [copy] : copy.querySelectorAll("input")).forEach((i) => { i.value = ""; i.removeAttribute("id"); });
      box.appendChild(copy);
    });
  });
}

function message(input, rule, value) {
  const m = input.getAttribute("data-msg-" + rule) || "";
  return m.replace("%v", value).replace("%n", String([...value].length));
}

// check returns the first broken rule's message for one input, or "".
function check(input) {
  const v = input.value;
  if (v === "") return input.required ? message(input, "required", v) : "";
  const d = input.dataset;
  if (d.pattern) {
    let re = null;
    try { re = new RegExp(d.pattern, "u"); } catch (e) { re = null; } // the server checks what JavaScript cannot read
    if (re && !re.test(v)) return message(input, "pattern", v);
  }
  const n = [...v].length;
  if (d.minlength && n < Number(d.minlength)) return message(input, "minlength", v);
  if (d.maxlength && n > Number(d.maxlength)) return message(input, "maxlength", v);
  if (/^-?\d+$/.test(v)) {
    if (d.min && Number(v) < Number(d.min)) return message(input, "min", v);
    if (d.max && Number(v) > Number(d.max)) return message(input, "max", v);
  }
  return "";
}

function validate() {
  const form = document.querySelector("form.run");
  if (!form) return;
  form.addEventListener("submit", (e) => {
    let first = null;
    form.querySelectorAll("fieldset.field").forEach((fs) => {
      const input = fs.querySelector("#p-" + CSS.escape(fs.dataset.param));
      const key = fs.querySelector("#k-" + CSS.escape(fs.dataset.param));
      const out = fs.querySelector(".field-error");
      // A value taken from key storage is checked by the server alone.
      const msg = input && !(key && key.value) ? check(input) : "";
      out.textContent = msg;
      fs.classList.toggle("invalid", msg !== "");
      if (msg && !first) first = input;
    });
    if (first) { e.preventDefault(); first.focus(); }
  });
}

// projectChoice reloads a form whose choices depend on the project (its
// instance pickers) when another project is chosen, so that it offers that
// project's instances; without this script the runbooks page's project
// selector leads to the same page.
function projectChoice() {
  const sel = document.querySelector("form.run select#project[data-reload]");
  if (!sel) return;
  sel.addEventListener("change", () => {
    const url = new URL(window.location.href);
    url.searchParams.set("project", sel.value);
    window.location.assign(url.toString());
  });
}

live();
addRows();
validate();
projectChoice();

// DOM helpers. Text from people is only ever a text node or textContent:
// nothing here parses a string as HTML.

let uid = 0;
export const nextId = (prefix = "f") => `${prefix}-${++uid}`;

/** h("p", {class: "x", dir: "auto", onclick: fn}, "text", node, ...) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (name === "text") el.textContent = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Text a person wrote: its own direction (Persian and Arabic right to left). */
export const userText = (tag, text, attrs = {}) => h(tag, { dir: "auto", ...attrs, text: text ?? "" });

export function clear(el) {
  el.replaceChildren();
  return el;
}

/** A labelled control with a place for its error. `param` is the API's
 * name for it (the error object's `param`). */
export function field({ label, name, type = "text", param = name, hint, control, ...attrs }) {
  const id = nextId(name);
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  const input = control || h(type === "textarea" ? "textarea" : "input",
    { id, name, type: type === "textarea" ? null : type, dir: type === "password" ? null : "auto", ...attrs });
  input.id = id;
  input.setAttribute("aria-describedby", [hintId, errorId].filter(Boolean).join(" "));
  return h("div", { class: "field", "data-param": param },
    h("label", { for: id, text: label }),
    hint ? h("p", { class: "hint", id: hintId, text: hint }) : null,
    input,
    h("p", { class: "field-error", id: errorId, hidden: true }));
}

export function select({ label, name, options, param = name }) {
  const control = h("select", { name }, options.map(([value, text]) => h("option", { value, text })));
  return field({ label, name, param, control });
}

/** Shows an API error (or an Error) next to the field its `param` names
 * (or, with no `param`, the field `paramsByCode` names for its code), else
 * at the top of the form. */
export function showError(form, error, paramsByCode = {}) {
  clearErrors(form);
  const param = error.param || paramsByCode[error.code] || "";
  const target = param && (form.querySelector(`[data-param="${CSS.escape(param)}"]`) ||
    form.querySelector(`[data-param="${CSS.escape(param.split(".")[0])}"]`));
  if (target) {
    const p = target.querySelector(".field-error");
    p.textContent = error.message;
    p.hidden = false;
    const control = target.querySelector("input, textarea, select");
    control.setAttribute("aria-invalid", "true");
    control.focus();
    return;
  }
  let p = form.querySelector(":scope > .form-error");
  if (!p) {
    p = h("p", { class: "form-error", role: "alert" });
    form.prepend(p);
  }
  p.textContent = error.message;
  p.hidden = false;
}

export function clearErrors(form) {
  for (const p of form.querySelectorAll(".field-error, .form-error")) {
    p.textContent = "";
    p.hidden = true;
  }
  for (const c of form.querySelectorAll("[aria-invalid]")) c.removeAttribute("aria-invalid");
}

/** A short message read out by screen readers and shown for a while. */
export function announce(text) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.classList.add("shown");
  clearTimeout(announce.timer);
  announce.timer = setTimeout(() => status.classList.remove("shown"), 4000);
}

export function formatTime(iso) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return iso || "";
  return when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export const time = (iso) => h("time", { datetime: iso, text: formatTime(iso) });

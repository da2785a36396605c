// Cards: issue (the number and CVC shown once), freeze, unfreeze, close,
// limits, reveal with the password, and each card's transactions. Written
// to API.md's Cards; where the API has no cards yet the screen says so.
import { api, get, post } from "./api.js";
import { announce, field, h, showError, time, userText } from "./dom.js";
import { formatMoney, money, parseAmount } from "./money.js";
import { moneyIntent, pagedList } from "./ui.js";

const q = (params) => new URLSearchParams(Object.entries(params).filter(([, v]) => v)).toString();
const groups = (digits) => String(digits).replace(/(\d{4})(?=\d)/g, "$1 ");
const expiry = (c) => `${String(c.exp_month).padStart(2, "0")}/${String(c.exp_year).slice(-2)}`;

function secretBox(title, details) {
  return h("div", { class: "card notice", role: "alert" },
    h("p", { class: "small", text: title }),
    h("p", { class: "card-number" }, h("span", { class: "sr-only", text: "Card number " }), groups(details.number)),
    h("p", {}, `CVC ${details.cvc}`, details.exp_month ? ` · expires ${expiry(details)}` : ""));
}

function issueForm(refresh, slot, list) {
  const form = h("form", { class: "card", novalidate: true, "aria-labelledby": "issue-title" },
    h("h2", { id: "issue-title", text: "New card" }),
    field({ label: "Label (optional)", name: "label", maxlength: 40 }));
  const button = h("button", { type: "submit", text: "Issue a card" });
  form.append(button);
  moneyIntent(form, button, (key, otp) => {
    const label = form.elements.label.value.trim();
    return post("/v1/cards", label ? { label } : {}, { key, otp });
  }, (card) => {
    form.reset();
    slot.replaceChildren(secretBox("Your new card. The number and CVC are shown only now; you can reveal them later with your password.", card));
    document.querySelector(".no-cards")?.remove();
    list.prepend(cardItem(card, refresh));
    announce("Card issued.");
  });
  return form;
}

function limitsForm(card, done) {
  const limits = card.limits || {};
  const dollars = (minor) => (minor === null || minor === undefined ? "" : formatMoney(minor).replace(/^\$/, "").replace(/,/g, ""));
  const form = h("form", { novalidate: true, "aria-label": `Limits of card ${card.last4}` },
    h("div", { class: "row" },
      field({ label: "Per payment (USD)", name: "per_transaction", inputmode: "decimal", value: dollars(limits.per_transaction) }),
      field({ label: "A day (USD)", name: "daily", inputmode: "decimal", value: dollars(limits.daily) }),
      field({ label: "A month (USD)", name: "monthly", inputmode: "decimal", value: dollars(limits.monthly) })),
    field({ label: "Blocked merchant categories (MCCs, comma separated)", name: "blocked_mccs",
      value: (limits.blocked_mccs || []).join(", ") }),
    field({ label: "Allowed countries (ISO codes, comma separated; empty for all)", name: "allowed_countries",
      value: (limits.allowed_countries || []).join(", ") }),
    h("button", { type: "submit", class: "secondary", text: "Save limits" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {};
    try {
      for (const name of ["per_transaction", "daily", "monthly"]) {
        const text = form.elements[name].value.trim();
        if (text) {
          try {
            body[name] = parseAmount(text);
          } catch (error) {
            throw Object.assign(error, { param: name });
          }
        }
      }
      const list = (name) => form.elements[name].value.split(",").map((s) => s.trim().toUpperCase()).filter(Boolean);
      body.blocked_mccs = list("blocked_mccs");
      body.allowed_countries = list("allowed_countries");
      done(await api("PUT", `/v1/cards/${card.id}/limits`, { body }));
      announce("Limits saved.");
    } catch (error) {
      showError(form, error);
    }
  });
  return form;
}

function revealForm(card, slot) {
  const form = h("form", { class: "inline-form", novalidate: true, "aria-label": `Reveal card ${card.last4}` },
    field({ label: "Your password", name: "password", type: "password", autocomplete: "current-password" }));
  const button = h("button", { type: "submit", class: "secondary", text: "Reveal number" });
  form.append(button);
  moneyIntent(form, button, (_key, otp) => api("POST", `/v1/cards/${card.id}/reveal`,
    { otp, body: { password: form.elements.password.value } }), (details) => {
    form.reset();
    slot.replaceChildren(secretBox("Card details", details));
  });
  return form;
}

function cardItem(card, refresh) {
  const status = h("span", { class: `badge ${card.status}`, text: card.status });
  const item = h("li", { class: "card" },
    h("h3", {}, `${card.brand === "visa" ? "Visa" : card.brand} •••• ${card.last4}`),
    card.label ? userText("p", card.label, { class: "muted" }) : null,
    h("p", {}, `Expires ${expiry(card)} `, status));
  const secret = h("div");
  const act = (label, method, path, message, cls = "secondary") => {
    const b = h("button", { type: "button", class: cls, text: label });
    b.addEventListener("click", async () => {
      b.disabled = true;
      try {
        await api(method, path);
        announce(message);
        refresh();
      } catch (error) {
        announce(error.message);
        b.disabled = false;
      }
    });
    return b;
  };
  if (card.status !== "closed") {
    const row = h("div", { class: "row" });
    row.append(card.status === "frozen"
      ? act("Unfreeze", "POST", `/v1/cards/${card.id}/unfreeze`, "Card unfrozen.")
      : act("Freeze", "POST", `/v1/cards/${card.id}/freeze`, "Card frozen."));
    const close = h("button", { type: "button", class: "secondary", text: "Close card" });
    close.addEventListener("click", () => {
      close.replaceWith(act("Yes, close it for good", "DELETE", `/v1/cards/${card.id}`, "Card closed.", "danger"));
    });
    row.append(close);
    item.append(row,
      h("details", {}, h("summary", { text: "Show the number" }), revealForm(card, secret)), secret,
      h("details", {}, h("summary", { text: "Limits" }), limitsForm(card, refresh)));
  }
  const txs = h("details", {}, h("summary", { text: "Transactions" }));
  txs.addEventListener("toggle", () => {
    if (!txs.open || txs.querySelector(".paged")) return;
    txs.append(pagedList({ label: `Transactions of card ${card.last4}`, tag: "ul", empty: "No card transactions yet.",
      fetchPage: (cursor) => get(`/v1/cards/${card.id}/transactions?${q({ cursor })}`),
      render: (t) => h("li", { class: "entry" },
        h("span", { class: "what" }, h("span", { class: "kind", text: t.merchant?.name || "Card" }), ` ${t.status}`,
          t.decline_reason ? ` (${t.decline_reason.replaceAll("_", " ")})` : ""),
        h("span", { class: "amount out", text: money({ amount: t.amount_posted || t.amount_held, currency: t.currency }) }),
        h("span", { class: "muted small" }, time(t.created_at))) }));
  });
  item.append(txs);
  return item;
}

export async function cardsScreen(view, { go }) {
  view.append(h("h1", { text: "Cards" }));
  let first;
  try {
    first = await get("/v1/cards");
  } catch (error) {
    const text = error.code === "not_found" ? "Cards are not available here yet."
      : error.code === "verification_required" ? "Cards come with your money account, once Flock has verified you."
        : error.message;
    view.append(h("p", { class: "card notice", role: "note", text }));
    return;
  }
  const refresh = () => go(`#/cards?r=${Date.now()}`);
  const slot = h("div");
  const list = h("ul", { class: "list", "aria-label": "Your cards" }, first.data.map((c) => cardItem(c, refresh)));
  view.append(slot, issueForm(refresh, slot, list), h("h2", { text: "Your cards" }), list);
  if (!first.data.length) view.append(h("p", { class: "muted no-cards", text: "No cards yet." }));
}

// Cards: issue (the number and CVC shown once), freeze, unfreeze, close,
// limits, reveal with the password (and a code with 2FA), and each card's
// transactions in plain words. A card's number and CVC stay in the page
// only while the person looks at them: "Hide", leaving the screen or
// switching away from the tab removes them (and every reference to them).
import { api, get, post } from "./api.js";
import { announce, field, h, showError, time, userText } from "./dom.js";
import { formatMoney, money, parseAmount } from "./money.js";
import { moneyIntent, pagedList } from "./ui.js";

const q = (params) => new URLSearchParams(Object.entries(params).filter(([, v]) => v)).toString();
const groups = (digits) => String(digits).replace(/(\d{4})(?=\d)/g, "$1 ");
const expiry = (c) => `${String(c.exp_month).padStart(2, "0")}/${String(c.exp_year).slice(-2)}`;

// API.md's decline reasons, said as a person would say them.
export const DECLINE_REASONS = {
  unknown_card: "the card number was not recognised",
  card_frozen: "the card was frozen",
  card_closed: "the card is closed",
  card_expired: "the card had expired",
  invalid_cvc: "the security code (CVC) was wrong",
  account_frozen: "your Flock account is frozen",
  insufficient_funds: "there was not enough money in your account",
  limit_exceeded: "it was over one of the card's limits",
  blocked_merchant: "you blocked this kind of shop",
  blocked_country: "the card is not allowed in that country",
};
const TX_STATUS = {
  pending: "Pending: the amount is held",
  posted: "Paid",
  partially_captured: "Paid (only the amount held)",
  reversed: "Cancelled by the shop: the hold was released",
  expired: "Expired: the hold was released",
  declined: "Declined",
  refunded: "Refunded",
};
const CARD_ERRORS = {
  limit_exceeded: "You have as many open cards as Flock allows. Close one to issue another.",
  verification_required: "Cards come with your money account, once Flock has verified you.",
  account_frozen: "Your account is frozen, so no card can be issued or changed.",
  invalid_state: "The card is closed, so this cannot be done any more.",
  rate_limited: "You have revealed this card's number too often today. Try again tomorrow.",
};
const plain = (error) => Object.assign(error, { message: CARD_ERRORS[error.code] || error.message });

// The number and CVC on screen now, each with its way to go.
const shown = new Set();
export function hideSecrets() {
  for (const hide of [...shown]) hide();
}
window.addEventListener("hashchange", hideSecrets);
window.addEventListener("pagehide", hideSecrets);
document.addEventListener("visibilitychange", () => {
  if (document.hidden) hideSecrets();
});

/** The card's number and CVC until "Hide" (or leaving); `onHidden` puts focus back. */
function secretBox(slot, title, note, details, onHidden) {
  const headingId = `secret-${crypto.randomUUID()}`;
  const hideButton = h("button", { type: "button", class: "secondary", text: "Hide" });
  const box = h("section", { class: "card notice secret-box", "aria-labelledby": headingId, tabindex: "-1" },
    h("h3", { id: headingId, text: title }),
    note ? h("p", { class: "small", text: note }) : null,
    h("p", { class: "card-number" }, h("span", { class: "sr-only", text: "Card number " }), groups(details.number)),
    h("p", { class: "card-cvc" }, `CVC ${details.cvc}`, details.exp_month ? ` · expires ${expiry(details)}` : ""),
    hideButton);
  const hide = () => {
    shown.delete(hide);
    box.remove();
  };
  hideButton.addEventListener("click", () => {
    hide();
    announce("Card details hidden.");
    onHidden?.(); // focus was on the button just removed
  });
  hideSecrets(); // one card's details at a time
  shown.add(hide);
  slot.replaceChildren(box);
  box.focus();
}

function issueForm(slot, list, refresh) {
  const form = h("form", { class: "card", novalidate: true, "aria-labelledby": "issue-title" },
    h("h2", { id: "issue-title", text: "New card" }),
    field({ label: "Label (optional)", name: "label", maxlength: 40, hint: "A name for it, like “groceries”." }));
  const button = h("button", { type: "submit", text: "Issue a card" });
  form.append(button);
  moneyIntent(form, button, async (key, otp) => {
    const label = form.elements.label.value.trim();
    try {
      return await post("/v1/cards", label ? { label } : {}, { key, otp });
    } catch (error) {
      throw plain(error);
    }
  }, (answer) => {
    const { number, cvc, ...card } = answer; // the list never holds them
    form.reset();
    document.querySelector(".no-cards")?.remove();
    list.prepend(cardItem(card, refresh));
    if (number) {
      secretBox(slot, "Your new card", "The number and CVC are shown only now. Note them somewhere safe; " +
        "later you can reveal them again with your password.", { number, cvc, exp_month: card.exp_month,
        exp_year: card.exp_year }, () => button.focus());
      announce("Card issued. Its number and CVC are shown only now.");
    } else {
      announce("Card issued.");
    }
  });
  return form;
}

function limitsForm(card, done) {
  const limits = card.limits || {};
  const dollars = (minor) => (minor === null || minor === undefined ? "" : formatMoney(minor).replace(/^\$/, "").replace(/,/g, ""));
  const form = h("form", { novalidate: true, "aria-label": `Limits of card ${card.last4}` },
    h("p", { class: "small muted", text: "Leave an amount empty for no limit." }),
    h("div", { class: "row" },
      field({ label: "Per payment (USD)", name: "per_transaction", inputmode: "decimal", value: dollars(limits.per_transaction) }),
      field({ label: "A day (USD)", name: "daily", inputmode: "decimal", value: dollars(limits.daily) }),
      field({ label: "A month (USD)", name: "monthly", inputmode: "decimal", value: dollars(limits.monthly) })),
    field({ label: "Blocked merchant categories (MCCs, comma separated)", name: "blocked_mccs",
      value: (limits.blocked_mccs || []).join(", "), hint: "Four-digit codes, like 7995 for betting." }),
    field({ label: "Allowed countries (ISO codes, comma separated; empty for all)", name: "allowed_countries",
      value: (limits.allowed_countries || []).join(", ") }),
    h("button", { type: "submit", class: "secondary", text: "Save limits" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {};
    try {
      for (const name of ["per_transaction", "daily", "monthly"]) {
        const text = form.elements[name].value.trim();
        try {
          body[name] = text ? parseAmount(text) : null; // null lifts the limit
        } catch (error) {
          throw Object.assign(error, { param: name });
        }
      }
      const list = (name) => form.elements[name].value.split(/[\s,]+/).map((s) => s.trim().toUpperCase()).filter(Boolean);
      body.blocked_mccs = list("blocked_mccs");
      body.allowed_countries = list("allowed_countries");
      const bad = body.blocked_mccs.find((m) => !/^\d{4}$/.test(m));
      if (bad) throw Object.assign(new Error(`“${bad}” is not a four-digit category code.`), { param: "blocked_mccs" });
      const badCountry = body.allowed_countries.find((c) => !/^[A-Z]{2}$/.test(c));
      if (badCountry) throw Object.assign(new Error(`“${badCountry}” is not a two-letter country code.`), { param: "allowed_countries" });
      await api("PUT", `/v1/cards/${card.id}/limits`, { body });
      announce("Limits saved.");
      done();
    } catch (error) {
      showError(form, plain(error));
    }
  });
  return form;
}

function revealForm(card, slot) {
  const form = h("form", { class: "inline-form", novalidate: true, "aria-label": `Reveal card ${card.last4}` },
    field({ label: "Your password", name: "password", type: "password", autocomplete: "current-password" }));
  const button = h("button", { type: "submit", class: "secondary", text: "Reveal number" });
  form.append(button);
  moneyIntent(form, button, async (_key, otp) => {
    try {
      return await api("POST", `/v1/cards/${card.id}/reveal`, { otp, body: { password: form.elements.password.value } });
    } catch (error) {
      if (error.code === "invalid_credentials") throw Object.assign(error, { param: "password", message: "That password is not right." });
      if (error.code === "invalid_request") throw Object.assign(error, { param: "password", message: "Enter your password." });
      throw plain(error);
    }
  }, (details) => {
    form.reset();
    secretBox(slot, `Card •••• ${card.last4}`, "Hide them when you are done.", details, () => button.focus());
  }, { otpHint: "Showing the card number needs a code from your authenticator app." });
  return form;
}

/** "Close card" asks first; "Keep it" takes the question back. */
function closeControl(card, refresh) {
  const wrap = h("div");
  const close = h("button", { type: "button", class: "secondary", text: "Close card" });
  const ask = () => {
    const keep = h("button", { type: "button", class: "secondary", text: "Keep it" });
    const yes = h("button", { type: "button", class: "danger", text: "Yes, close it for good" });
    const question = h("div", { class: "confirm", role: "group", "aria-label": `Close card ${card.last4}?` },
      h("p", { text: "Closing is final: the card stops working at once and cannot be opened again." }),
      h("div", { class: "row" }, yes, keep));
    keep.addEventListener("click", () => {
      wrap.replaceChildren(close);
      close.focus();
    });
    yes.addEventListener("click", async () => {
      yes.disabled = true;
      try {
        await api("DELETE", `/v1/cards/${card.id}`);
        announce(`Card ${card.last4} closed.`);
        refresh();
      } catch (error) {
        announce(plain(error).message);
        yes.disabled = false;
      }
    });
    wrap.replaceChildren(question);
    yes.focus();
  };
  close.addEventListener("click", ask);
  wrap.append(close);
  return wrap;
}

function transactionRow(t) {
  const m = t.merchant;
  const amount = t.status === "declined" ? null : (t.amount_posted || t.amount_held);
  const details = [TX_STATUS[t.status] || t.status];
  if (t.decline_reason) details[0] += `: ${DECLINE_REASONS[t.decline_reason] || t.decline_reason.replaceAll("_", " ")}`;
  if (t.forced) details.push("posted by the network without a hold");
  if (t.amount_refunded) details.push(`${money({ amount: t.amount_refunded, currency: t.currency })} refunded`);
  return h("li", { class: "entry card-tx", "data-status": t.status },
    h("span", { class: "what" }, userText("span", m?.name || "Card payment", { class: "kind" }),
      m ? h("span", { class: "muted small" }, ` · ${[m.city, m.country].filter(Boolean).join(", ")}`) : null),
    h("span", { class: `tx-status ${t.status}`, text: details.join("; ") }),
    amount === null ? h("span", { class: "amount muted", text: "No money moved" })
      : h("span", { class: "amount out", text: money({ amount, currency: t.currency }) }),
    t.cashback ? h("span", { class: `cashback ${t.cashback > 0 ? "in" : ""}`,
      text: t.cashback > 0 ? `${money({ amount: t.cashback, currency: t.currency })} cashback`
        : `${money({ amount: -t.cashback, currency: t.currency })} cashback taken back` }) : null,
    h("span", { class: "muted small" }, time(t.created_at)));
}

function cardItem(card, refresh) {
  const status = h("span", { class: `badge ${card.status}`, text: card.status });
  const item = h("li", { class: "card", "data-card-id": card.id },
    h("h3", {}, `${card.brand === "visa" ? "Visa" : card.brand} •••• ${card.last4}`),
    card.label ? userText("p", card.label, { class: "muted" }) : null,
    h("p", { class: "card-meta" }, `Expires ${expiry(card)} `, status));
  const secret = h("div");
  const act = (label, path, message) => {
    const b = h("button", { type: "button", class: "secondary", text: label });
    b.addEventListener("click", async () => {
      b.disabled = true;
      try {
        await api("POST", path);
        announce(message);
        refresh();
      } catch (error) {
        announce(plain(error).message);
        b.disabled = false;
      }
    });
    return b;
  };
  if (card.status !== "closed") {
    item.append(h("div", { class: "row" },
      card.status === "frozen"
        ? act("Unfreeze", `/v1/cards/${card.id}/unfreeze`, `Card ${card.last4} unfrozen: it works again.`)
        : act("Freeze", `/v1/cards/${card.id}/freeze`, `Card ${card.last4} frozen: payments are declined until you unfreeze it.`),
      closeControl(card, refresh)),
    h("details", {}, h("summary", { text: "Show the number" }), revealForm(card, secret)), secret,
    h("details", {}, h("summary", { text: "Limits" }), limitsForm(card, refresh)));
  }
  const txs = h("details", { class: "card-txs" }, h("summary", { text: "Transactions" }));
  txs.addEventListener("toggle", () => {
    if (!txs.open || txs.querySelector(".paged")) return;
    txs.append(pagedList({ label: `Transactions of card ${card.last4}`, tag: "ul", empty: "No card transactions yet.",
      fetchPage: (cursor) => get(`/v1/cards/${card.id}/transactions?${q({ cursor })}`), render: transactionRow }));
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
    const text = error.code === "not_found" ? "Cards are not available here yet." : plain(error).message;
    view.append(h("p", { class: "card notice", role: "note", text }));
    return;
  }
  const refresh = () => go(`#/cards?r=${Date.now()}`);
  const slot = h("div");
  const list = h("ul", { class: "list", "aria-label": "Your cards" }, first.data.map((c) => cardItem(c, refresh)));
  view.append(slot, issueForm(slot, list, refresh), h("h2", { text: "Your cards" }), list);
  if (!first.data.length) view.append(h("p", { class: "muted no-cards", text: "No cards yet." }));
}

// Money screens: the wallet (balances, deposit, withdraw, transactions),
// pay (send, request, pay or decline requests) and statements (CSV).
import { api, get, post } from "./api.js";
import { announce, field, h, showError, time, userText } from "./dom.js";
import { formatBps, formatMicros, formatMoney, money } from "./money.js";
import { amountField, moneyIntent, pagedList, readAmount, userLink } from "./ui.js";

const q = (params) => new URLSearchParams(Object.entries(params).filter(([, v]) => v)).toString();

/** The wallet, or a note when the person is not verified yet (null). */
async function account(view) {
  try {
    return await get("/v1/wallet");
  } catch (error) {
    if (error.code !== "verification_required") throw error;
    view.append(h("p", { class: "card notice", role: "note",
      text: "Your money account opens once Flock has verified you. Until then you can post, follow and message." }));
    return null;
  }
}

function summary(a) {
  const row = (label, value, cls) => [h("dt", { text: label }), h("dd", { class: cls, text: value })];
  return h("section", { class: "card", "aria-labelledby": "balance-title" },
    h("h2", { id: "balance-title", text: "Balance" }),
    h("p", { class: "big", "data-testid": "balance", text: formatMoney(a.balance, a.currency) }),
    h("dl", { class: "figures" },
      row("Available", formatMoney(a.available, a.currency), "available"),
      row("Spendable", formatMoney(a.spendable, a.currency), "spendable"),
      row("On hold", formatMoney(a.held, a.currency)),
      row("Credit line", formatMoney(a.credit_limit, a.currency)),
      row("Interest (APY)", formatBps(a.apy_bps)),
      row("Interest accrued, not yet paid", formatMicros(a.accrued_interest_micros, a.currency)),
      row("Account number", a.account_number),
      row("Routing number", a.routing_number)));
}

function simpleMoneyForm({ title, path, buttonText, done }) {
  const form = h("form", { class: "card", novalidate: true, "aria-label": title }, h("h2", { text: title }), amountField());
  const button = h("button", { type: "submit", text: buttonText });
  form.append(button);
  moneyIntent(form, button, (key, otp) => post(path, { amount: readAmount(form), currency: "USD" }, { key, otp }),
    (t) => done(t, form));
  return form;
}

const KIND = { p2p: "Transfer", deposit: "Deposit", withdrawal: "Withdrawal", tip: "Tip", unlock: "Unlock",
  subscription: "Subscription", message_payment: "Payment in chat", request_payment: "Paid request",
  interest: "Interest", overdraft_interest: "Overdraft interest", fee: "Fee" };

// Kinds whose counterparty is a person (the others are Flock's own accounts).
const PERSON_KINDS = new Set(["p2p", "tip", "unlock", "subscription", "message_payment", "request_payment"]);

export function entryRow(e) {
  return h("li", { class: "entry" },
    h("span", { class: "what" }, h("span", { class: "kind", text: KIND[e.kind] || e.kind }),
      e.counterparty ? [" ", PERSON_KINDS.has(e.kind) ? userLink(e.counterparty) : e.counterparty] : null),
    e.note ? userText("span", e.note, { class: "note" }) : null,
    h("span", { class: `amount ${e.amount < 0 ? "out" : "in"}`, text: formatMoney(e.amount, e.currency) }),
    h("span", { class: "muted small" }, time(e.created_at)));
}

/** Whether this Flock has the API yet (cards, checks, loans: a screen appears with its API). */
async function offered(path) {
  try {
    await get(path);
    return true;
  } catch (error) {
    return error.code !== "not_found";
  }
}

export async function walletScreen(view, { go }) {
  view.append(h("h1", { text: "Wallet" }));
  const a = await account(view);
  if (!a) return;
  const refresh = () => go("#/wallet");
  const links = h("p", {}, h("a", { href: "#/statements", text: "Statements" }));
  const screens = [["#/loans", "Loans", "/v1/loans"], ["#/checks", "Checks", "/v1/checks?limit=1"],
    ["#/cards", "Cards", "/v1/cards?limit=1"]];
  const offers = await Promise.all(screens.map(([, , path]) => offered(path))); // at once, not one after another
  screens.forEach(([href, text], i) => offers[i] && links.prepend(h("a", { href, text }), " · "));
  view.append(links, summary(a),
    h("div", { class: "grid2" },
      simpleMoneyForm({ title: "Add money from your bank", path: "/v1/wallet/deposits", buttonText: "Deposit",
        done: (t) => { announce(`Deposited ${money(t)}.`); refresh(); } }),
      simpleMoneyForm({ title: "Move money to your bank", path: "/v1/wallet/withdrawals", buttonText: "Withdraw",
        done: (t) => { announce(`Withdrew ${money(t)}.`); refresh(); } })),
    h("h2", { text: "Transactions" }),
    pagedList({ label: "Transactions", tag: "ul", render: entryRow, empty: "No transactions yet.",
      fetchPage: (cursor) => get(`/v1/wallet/transactions?${q({ cursor })}`) }));
}

function requestItem(r, role, refresh) {
  const item = h("li", { class: "card request" },
    role === "incoming" ? h("span", {}, userLink(r.to), " asks you for ") : h("span", {}, "You asked ", userLink(r.from), " for "),
    h("strong", { text: money(r) }),
    r.note ? userText("span", r.note, { class: "note" }) : null,
    h("span", { class: `badge ${r.status}`, text: r.status }));
  if (role === "incoming" && r.status === "pending") {
    const form = h("form", { class: "inline" });
    const pay = h("button", { type: "submit", text: `Pay ${money(r)}` });
    const decline = h("button", { type: "button", class: "secondary", text: "Decline" });
    form.append(pay, " ", decline);
    moneyIntent(form, pay, (key, otp) => post(`/v1/payment-requests/${r.id}/pay`, undefined, { key, otp }), () => {
      announce(`Paid ${money(r)} to @${r.to}.`);
      refresh();
    });
    decline.addEventListener("click", async () => {
      decline.disabled = true;
      try {
        await post(`/v1/payment-requests/${r.id}/decline`);
        announce("Request declined.");
        refresh();
      } catch (error) {
        showError(form, error);
        decline.disabled = false;
      }
    });
    item.append(form);
  }
  return item;
}

export async function payScreen(view, { query, go }) {
  view.append(h("h1", { text: "Pay and request" }));
  const a = await account(view);
  if (!a) return;
  const refresh = () => go(`#/pay?r=${Date.now()}`);
  const send = h("form", { class: "card", novalidate: true, "aria-labelledby": "send-title" },
    h("h2", { id: "send-title", text: "Send money" }),
    h("p", { class: "muted", text: `You can spend ${formatMoney(a.spendable, a.currency)}.` }),
    field({ label: "To (handle)", name: "to", autocapitalize: "none", value: query.get("to") || "", required: true }),
    amountField(), field({ label: "Note (optional)", name: "note", maxlength: 280 }));
  const sendButton = h("button", { type: "submit", text: "Send" });
  send.append(sendButton);
  moneyIntent(send, sendButton, (key, otp) => {
    const body = { to: send.elements.to.value.trim().replace(/^@/, ""), amount: readAmount(send), currency: "USD" };
    if (send.elements.note.value.trim()) body.note = send.elements.note.value.trim();
    return post("/v1/transfers", body, { key, otp });
  }, (t) => {
    announce(`Sent ${money(t)} to @${t.to}.`);
    refresh();
  });
  const ask = h("form", { class: "card", novalidate: true, "aria-labelledby": "request-title" },
    h("h2", { id: "request-title", text: "Request money" }),
    field({ label: "From (handle)", name: "from", autocapitalize: "none", required: true }),
    amountField(), field({ label: "Note (optional)", name: "note", maxlength: 280 }));
  const askButton = h("button", { type: "submit", text: "Request" });
  ask.append(askButton);
  moneyIntent(ask, askButton, (key) => {
    const body = { from: ask.elements.from.value.trim().replace(/^@/, ""), amount: readAmount(ask), currency: "USD" };
    if (ask.elements.note.value.trim()) body.note = ask.elements.note.value.trim();
    return api("POST", "/v1/payment-requests", { body, key });
  }, (r) => {
    announce(`Asked @${r.from} for ${money(r)}.`);
    refresh();
  });
  view.append(h("div", { class: "grid2" }, send, ask),
    h("h2", { text: "Requests to you" }),
    pagedList({ label: "Requests to you", tag: "ul", empty: "No requests.", render: (r) => requestItem(r, "incoming", refresh),
      fetchPage: (cursor) => get(`/v1/payment-requests?${q({ role: "incoming", cursor })}`) }),
    h("h2", { text: "Your requests" }),
    pagedList({ label: "Your requests", tag: "ul", empty: "No requests.", render: (r) => requestItem(r, "outgoing", refresh),
      fetchPage: (cursor) => get(`/v1/payment-requests?${q({ role: "outgoing", cursor })}`) }));
}

/** The month of the latest movement (business time, which a test clock may
 * have moved), else this month by the device's clock. */
async function latestMonth() {
  const page = await get("/v1/wallet/transactions?limit=1");
  if (page.data.length) return page.data[0].created_at.slice(0, 7);
  const now = new Date();
  return `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, "0")}`;
}

export async function statementsScreen(view, { query, go }) {
  view.append(h("h1", { text: "Statements" }));
  const a = await account(view);
  if (!a) return;
  const month = /^\d{4}-\d{2}$/.test(query.get("month") || "") ? query.get("month") : await latestMonth();
  const form = h("form", { class: "card row", novalidate: true, "aria-label": "Choose a month" },
    field({ label: "Month", name: "month", type: "month", value: month, param: "month" }),
    h("button", { type: "submit", class: "secondary", text: "Show" }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go(`#/statements?month=${encodeURIComponent(form.elements.month.value)}`);
  });
  view.append(form);
  let s;
  try {
    s = await get(`/v1/wallet/statements/${month}`);
  } catch (error) {
    showError(form, error);
    return;
  }
  const download = h("button", { type: "button", text: `Download ${month} as CSV` });
  download.addEventListener("click", async () => {
    download.disabled = true;
    try {
      const response = await api("GET", `/v1/wallet/statements/${month}?format=csv`, { raw: true });
      const url = URL.createObjectURL(await response.blob());
      const link = h("a", { href: url, download: `flock-statement-${month}.csv`, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (error) {
      announce(error.message);
    } finally {
      download.disabled = false;
    }
  });
  const row = (label, value) => [h("dt", { text: label }), h("dd", { text: formatMoney(value, a.currency) })];
  view.append(h("section", { class: "card", "aria-labelledby": "statement-title" },
    h("h2", { id: "statement-title", text: `Statement for ${s.month}` }),
    h("dl", { class: "figures" }, row("Opening balance", s.opening_balance), row("Money in", s.total_in),
      row("Money out", s.total_out), row("Interest earned", s.interest_earned),
      row("Interest charged", s.interest_charged), row("Closing balance", s.closing_balance)),
    download),
  h("h2", { text: "Entries" }),
  s.entries.length ? h("ul", { class: "list", "aria-label": "Statement entries" }, s.entries.map(entryRow))
    : h("p", { class: "muted", text: "No entries this month." }));
}

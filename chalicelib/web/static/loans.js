// Loans: apply (the offer and its schedule, or every reason it was
// declined), accept, and for each loan its schedule, payments and payoff.
import { get, post } from "./api.js";
import { announce, field, h, showError, userText } from "./dom.js";
import { formatBps, formatMoney } from "./money.js";
import { amountField, moneyIntent, readAmount } from "./ui.js";

const usd = (minor) => formatMoney(minor, "USD");

function schedule(rows) {
  return h("details", {}, h("summary", { text: `Schedule (${rows.length} payments)` }),
    h("table", { class: "schedule" },
      h("thead", {}, h("tr", {}, ["#", "Due", "Payment", "Principal", "Interest", "Paid"].map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, rows.map((r) => h("tr", {},
        h("td", { text: String(r.n) }), h("td", { text: r.due_date }), h("td", { text: usd(r.installment) }),
        h("td", { text: usd(r.principal) }), h("td", { text: usd(r.interest) }),
        h("td", { text: r.paid === true ? "yes" : r.paid ? usd(r.paid) : "" }))))));
}

function offerView(application, refresh) {
  const box = h("section", { class: "card", "aria-labelledby": "offer-title" });
  if (application.status !== "approved" || !application.offer) {
    box.append(h("h2", { id: "offer-title", text: "Not this time" }),
      h("p", { text: "The application was declined, for these reasons:" }),
      h("ul", {}, (application.reasons || []).map((r) => userText("li", r.message || r.code))));
    return box;
  }
  const o = application.offer;
  const row = (label, value) => [h("dt", { text: label }), h("dd", { text: value })];
  const form = h("form", { novalidate: true });
  const accept = h("button", { type: "submit", text: `Accept ${usd(o.amount)}` });
  form.append(accept);
  moneyIntent(form, accept, (key, otp) => post(`/v1/loans/applications/${application.id}/accept`, undefined, { key, otp }),
    (loan) => {
      announce(`${usd(loan.principal)} is in your wallet.`);
      refresh();
    });
  box.append(h("h2", { id: "offer-title", text: `Your offer (grade ${application.grade})` }),
    h("dl", { class: "figures" }, row("Amount", usd(o.amount)), row("APR", formatBps(o.apr_bps)),
      row("Term", `${o.term_months} months`), row("Monthly payment", usd(o.installment)),
      row("Total interest", usd(o.total_interest)), row("Total of payments", usd(o.total_of_payments)),
      row("First payment due", o.first_due_date), row("Offer good until", o.expires_at)),
    schedule(o.schedule || []), form);
  return box;
}

function loanItem(loan, refresh) {
  const row = (label, value) => [h("dt", { text: label }), h("dd", { text: value })];
  const item = h("li", { class: "card" },
    h("h3", {}, `${usd(loan.principal)} at ${formatBps(loan.apr_bps)} `, h("span", { class: `badge ${loan.status}`, text: loan.status.replace("_", " ") })),
    h("dl", { class: "figures" }, row("Principal left", usd(loan.principal_outstanding)),
      row("Interest due", usd(loan.interest_due)), row("Fees due", usd(loan.fees_due)),
      loan.next_due_date ? row("Next payment", `${usd(loan.next_due_amount)} on ${loan.next_due_date}`) : [],
      loan.days_past_due ? row("Days past due", String(loan.days_past_due)) : []),
    schedule(loan.schedule || []));
  if (["paid_off", "charged_off"].includes(loan.status)) return item;
  const pay = h("form", { class: "inline-form", novalidate: true, "aria-label": `Pay toward the ${usd(loan.principal)} loan` },
    amountField("Payment (USD)"));
  const payButton = h("button", { type: "submit", text: "Pay" });
  pay.append(payButton);
  moneyIntent(pay, payButton, (key, otp) => post(`/v1/loans/${loan.id}/payments`,
    { amount: readAmount(pay), currency: "USD" }, { key, otp }), (payment) => {
    const a = payment.allocation || {};
    announce(`Paid ${usd(payment.amount)}: ${usd(a.principal || 0)} principal, ${usd(a.interest || 0)} interest, ${usd(a.fees || 0)} fees.`);
    refresh();
  });
  const quote = h("button", { type: "button", class: "secondary", text: "Payoff amount" });
  const quoteText = h("p", { class: "muted", "aria-live": "polite" });
  quote.addEventListener("click", async () => {
    try {
      const p = await get(`/v1/loans/${loan.id}/payoff`);
      quoteText.textContent = `${usd(p.payoff_amount)} pays it off (good through ${p.good_through}).`;
    } catch (error) {
      quoteText.textContent = error.message;
    }
  });
  item.append(pay, h("div", { class: "row" }, quote), quoteText);
  return item;
}

export async function loansScreen(view, { go }) {
  view.append(h("h1", { text: "Loans" }));
  let loans;
  try {
    loans = await get("/v1/loans");
  } catch (error) {
    const text = error.code === "not_found" ? "Loans are not available here yet."
      : error.code === "verification_required" ? "Loans come with your money account, once Flock has verified you."
        : error.message;
    view.append(h("p", { class: "card notice", role: "note", text }));
    return;
  }
  const refresh = () => go(`#/loans?r=${Date.now()}`);
  const result = h("div");
  const apply = h("form", { class: "card", novalidate: true, "aria-labelledby": "apply-title" },
    h("h2", { id: "apply-title", text: "Apply for a loan" }),
    h("p", { class: "muted", text: "The decision is immediate and explained; applying moves no money." }),
    h("div", { class: "row" }, amountField("Amount (USD)"),
      field({ label: "Term (months)", name: "term_months", param: "term_months", inputmode: "numeric", value: "12" })));
  const applyButton = h("button", { type: "submit", text: "See my offer" });
  apply.append(applyButton);
  moneyIntent(apply, applyButton, (key, otp) => {
    const months = Number.parseInt(apply.elements.term_months.value, 10);
    if (!Number.isInteger(months) || String(months) !== apply.elements.term_months.value.trim()) {
      throw Object.assign(new Error("Enter a whole number of months."), { param: "term_months" });
    }
    return post("/v1/loans/applications", { amount: readAmount(apply), term_months: months }, { key, otp });
  }, (application) => {
    result.replaceChildren(offerView(application, refresh));
    result.querySelector("h2").setAttribute("tabindex", "-1");
    result.querySelector("h2").focus();
  });
  view.append(apply, result, h("h2", { text: "Your loans" }));
  if (loans.data.length) view.append(h("ul", { class: "list", "aria-label": "Your loans" }, loans.data.map((l) => loanItem(l, refresh))));
  else view.append(h("p", { class: "muted", text: "No loans." }));
}

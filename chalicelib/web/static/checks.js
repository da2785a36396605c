// Checks: write a paper check (its number and MICR line), stop one, and
// deposit a check someone wrote you by photographing both sides; each
// deposit says when its parts become available. Every refusal the API can
// give is said in plain words, next to the field it is about.
import { get, post } from "./api.js";
import { announce, field, h, showError, time, userText } from "./dom.js";
import { money } from "./money.js";
import { amountField, moneyIntent, pagedList, readAmount } from "./ui.js";

const IMAGE_BYTES_MAX = 2 * 1024 * 1024; // API.md: each photo at most 2 MiB
const IMAGE_TYPES = ["image/png", "image/jpeg"];
const MICR_PARAMS = ["micr.routing", "micr.account", "micr.serial"];

const CHECK_STATUS = {
  issued: "Written, not paid yet",
  paid: "Paid",
  stopped: "Stopped",
  returned: "Returned unpaid",
  void: "Void",
};
const DEPOSIT_STATUS = {
  pending: "Not all available yet",
  available: "All of it is available",
  returned: "Returned by the paying bank",
  rejected: "Rejected",
};
const RETURN_REASONS = {
  no_account: "the account it was drawn on does not exist",
  account_closed: "the account it was drawn on is closed",
  altered_or_fictitious: "it did not match the check written (amount, payee or number)",
  stop_payment: "payment was stopped",
  duplicate_presentment: "it was already paid",
  stale_dated: "it was more than 180 days old",
  not_sufficient_funds: "there was not enough money to pay it",
  unusable_image: "the photos could not be read",
  refer_to_maker: "the paying bank asks you to contact whoever wrote it",
};
// What an invalid_request about a field means for the person filling it in.
const FIELD_HELP = {
  "micr.routing": "Enter the 9-digit routing number printed first along the bottom of the check.",
  "micr.account": "Enter the account number printed along the bottom of the check (4 to 17 digits).",
  "micr.serial": "Enter the check number (digits only).",
  front_image: "The photo of the front is not a PNG or JPEG of at most 2 MiB.",
  back_image: "The photo of the back is not a PNG or JPEG of at most 2 MiB.",
  payee: "Enter whom the check pays (1 to 100 characters).",
  memo: "A memo is at most 100 characters.",
  amount: "Enter an amount like 12.34.",
};

/** The API's refusal, in words for the person, at the field it is about. */
export function plainError(error) {
  const byCode = {
    duplicate_deposit: "This check was deposited before (the same check and amount, or the same photo). " +
      "A check can be deposited only once.",
    limit_exceeded: "This is over your check deposit limits: at most $5,000 a check, and $10,000 or " +
      "10 checks in 30 days.",
    not_eligible: "Endorse the check first: sign the back, write “For mobile deposit to Flock only”, and tick the box.",
    verification_required: "Checks come with your money account, once Flock has verified you.",
    account_frozen: "Your account is frozen, so no check can be written or deposited.",
    invalid_state: "This check cannot be stopped any more: it is no longer waiting to be paid.",
    not_found: "This check is not one of yours.",
  };
  if (error.code === "not_eligible") return Object.assign(error, { message: byCode.not_eligible, param: "endorsed" });
  if (error.code === "limit_exceeded") return Object.assign(error, { message: byCode.limit_exceeded, param: error.param || "amount" });
  if (byCode[error.code]) return Object.assign(error, { message: byCode[error.code] });
  if (error.code === "invalid_request" && error.param) {
    const help = FIELD_HELP[error.param];
    // A sentence of the service's own ("a check drawn on your own account ...") says more than the field's help.
    const generic = error.message.startsWith(`${error.param}:`);
    if (help && generic) return Object.assign(error, { message: help });
  }
  return error;
}

/** The MICR line as printed: ⑈serial⑈ ⑆routing⑆ account⑈, its symbols
 * drawn by CSS (few fonts have them), read out in words. */
function micrLine(micr) {
  const sym = (kind) => h("span", { class: `micr-sym ${kind}` });
  const spoken = `Routing ${micr.routing}, account ${micr.account}, check number ${micr.serial}`;
  return h("p", { class: "micr" },
    h("span", { "aria-hidden": "true", class: "micr-print" },
      sym("on-us"), micr.serial, sym("on-us"), " ", sym("transit"), micr.routing, sym("transit"), " ",
      micr.account, sym("on-us")),
    h("span", { class: "sr-only", text: `MICR line: ${spoken}` }));
}

function stopControl(check, refresh) {
  const wrap = h("div");
  const stop = h("button", { type: "button", class: "secondary", text: "Stop payment" });
  stop.addEventListener("click", () => {
    const keep = h("button", { type: "button", class: "secondary", text: "Keep it" });
    const yes = h("button", { type: "button", class: "danger", text: `Yes, stop check ${check.number}` });
    const error = h("p", { class: "form-error", role: "alert", hidden: true });
    keep.addEventListener("click", () => {
      wrap.replaceChildren(stop);
      stop.focus();
    });
    yes.addEventListener("click", async () => {
      yes.disabled = true;
      try {
        await post(`/v1/checks/${check.id}/stop`);
        announce(`Check ${check.number} stopped: it will not be paid.`);
        refresh();
      } catch (e) {
        error.textContent = plainError(e).message;
        error.hidden = false;
        yes.disabled = false;
      }
    });
    wrap.replaceChildren(h("div", { class: "confirm", role: "group", "aria-label": `Stop check ${check.number}?` },
      h("p", { text: "Stopping is final: whoever presents this check will not be paid." }), error,
      h("div", { class: "row" }, yes, keep)));
    yes.focus();
  });
  wrap.append(stop);
  return wrap;
}

function checkItem(check, refresh) {
  const row = (label, value) => [h("dt", { text: label }), h("dd", {}, value)];
  const item = h("li", { class: "card check", "data-check-id": check.id },
    h("h3", {}, `Check ${check.number} · ${money(check)} `,
      h("span", { class: `badge ${check.status}`, text: CHECK_STATUS[check.status] || check.status })),
    h("dl", { class: "figures" },
      row("Pay to", userText("span", check.payee)),
      check.memo ? row("Memo", userText("span", check.memo)) : [],
      row("Written", time(check.issued_at)),
      check.paid_at ? row("Paid", time(check.paid_at)) : [],
      check.return_reason ? row("Not paid because", RETURN_REASONS[check.return_reason] || check.return_reason) : []),
    micrLine(check.micr));
  if (check.status === "issued") item.append(stopControl(check, refresh));
  return item;
}

function writeForm(refresh) {
  const result = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "card", novalidate: true, "aria-labelledby": "write-title" },
    h("h2", { id: "write-title", text: "Write a check" }),
    h("p", { class: "small muted", text: "Writing a check moves no money: it is paid from your account when the payee's bank presents it." }),
    field({ label: "Pay to", name: "payee", maxlength: 100, autocomplete: "off", required: true }),
    amountField("Amount (USD)"),
    field({ label: "Memo (optional)", name: "memo", maxlength: 100, autocomplete: "off" }));
  const button = h("button", { type: "submit", text: "Write the check" });
  form.append(button);
  moneyIntent(form, button, async (key, otp) => {
    const payee = form.elements.payee.value.trim();
    if (!payee) throw Object.assign(new Error("Enter whom the check pays."), { param: "payee" });
    const body = { payee, amount: readAmount(form), currency: "USD" };
    const memo = form.elements.memo.value.trim();
    if (memo) body.memo = memo;
    try {
      return await post("/v1/checks", body, { key, otp });
    } catch (error) {
      throw plainError(error);
    }
  }, (check) => {
    form.reset();
    announce(`Check ${check.number} written to ${check.payee} for ${money(check)}.`);
    const heading = h("h3", { tabindex: "-1", text: `Check ${check.number} is written` });
    result.replaceChildren(h("section", { class: "card notice", "aria-label": `Check ${check.number}` }, heading,
      h("p", {}, "Pay to ", userText("strong", check.payee), ` · ${money(check)}`),
      h("p", { class: "small", text: "Write these on the paper check; the MICR line goes along its bottom edge." }),
      micrLine(check.micr),
      h("button", { type: "button", class: "secondary", text: "Show it in my checks", onclick: refresh })));
    heading.focus();
  });
  return [form, result];
}

/** A photo as the API takes it: base64 of a PNG or JPEG within 2 MiB. */
function readImage(input, param) {
  const file = input.files?.[0];
  const refuse = (message) => Object.assign(new Error(message), { param });
  if (!file) return Promise.reject(refuse(`Choose a photo of the ${param === "front_image" ? "front" : "back"} of the check.`));
  if (!IMAGE_TYPES.includes(file.type)) return Promise.reject(refuse("That file is not a PNG or JPEG photo."));
  if (file.size > IMAGE_BYTES_MAX) return Promise.reject(refuse("That photo is over 2 MiB: take a smaller one."));
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(refuse("That photo could not be read; choose it again."));
    reader.readAsDataURL(file);
  });
}

/** "2026-03-19" -> "Mar 19, 2026" in the person's language: a business day, no time zone. */
function day(iso) {
  const when = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(when.getTime())) return iso;
  return when.toLocaleDateString(undefined, { dateStyle: "medium", timeZone: "UTC" });
}

function availability(deposit) {
  const parts = [];
  if (deposit.available_now) parts.push(h("li", { text: `${money({ amount: deposit.available_now, currency: deposit.currency })} available now` }));
  for (const hold of deposit.holds || []) {
    const stillHeld = !deposit.pending_holds || deposit.pending_holds.some((p) => p.available_on === hold.available_on && p.amount === hold.amount);
    parts.push(h("li", {}, `${money({ amount: hold.amount, currency: deposit.currency })} available on `,
      h("time", { datetime: hold.available_on, text: day(hold.available_on) }), stillHeld ? "" : " (released)"));
  }
  return h("ul", { class: "holds", "aria-label": "When the money is available" }, parts);
}

function depositItem(d) {
  return h("li", { class: "card deposit", "data-deposit-id": d.id },
    h("h3", {}, `${money(d)} · check ${d.micr.serial} `,
      h("span", { class: `badge ${d.status}`, text: DEPOSIT_STATUS[d.status] || d.status })),
    h("p", { class: "muted small" }, "Deposited ", time(d.created_at)),
    d.return_reason ? h("p", { text: `Returned: ${RETURN_REASONS[d.return_reason] || d.return_reason}.` }) : null,
    d.status === "returned" ? null : availability(d),
    micrLine(d.micr));
}

function depositForm(refresh) {
  const result = h("div");
  const form = h("form", { class: "card", novalidate: true, "aria-labelledby": "deposit-title" },
    h("h2", { id: "deposit-title", text: "Deposit a check" }),
    h("p", { class: "small muted", text: "The money is credited at once; part of it may be held for a few business days." }),
    amountField("Amount (USD)"),
    h("fieldset", { class: "micr-fields" },
      h("legend", { text: "The numbers along the bottom of the check" }),
      h("div", { class: "row" },
        field({ label: "Routing number", name: "routing", param: "micr.routing", inputmode: "numeric", maxlength: 9, autocomplete: "off" }),
        field({ label: "Account number", name: "account", param: "micr.account", inputmode: "numeric", maxlength: 17, autocomplete: "off" }),
        field({ label: "Check number", name: "serial", param: "micr.serial", inputmode: "numeric", maxlength: 15, autocomplete: "off" }))),
    h("div", { class: "row" },
      field({ label: "Photo of the front", name: "front_image", type: "file", accept: IMAGE_TYPES.join(","), hint: "PNG or JPEG, at most 2 MiB." }),
      field({ label: "Photo of the back", name: "back_image", type: "file", accept: IMAGE_TYPES.join(","), hint: "PNG or JPEG, at most 2 MiB." })),
    h("div", { class: "field check-field", "data-param": "endorsed" },
      h("label", {}, h("input", { type: "checkbox", name: "endorsed", "aria-describedby": "endorsed-error" }),
        " I signed the back of the check and wrote “For mobile deposit to Flock only” under my signature"),
      h("p", { class: "field-error", id: "endorsed-error", hidden: true })));
  const button = h("button", { type: "submit", text: "Deposit the check" });
  form.append(button);
  moneyIntent(form, button, async (key, otp) => {
    const digits = (name, param) => {
      const value = form.elements[name].value.replace(/\s+/g, "");
      if (!/^\d+$/.test(value)) throw Object.assign(new Error(FIELD_HELP[param]), { param });
      return value;
    };
    const amount = readAmount(form);
    const micr = { routing: digits("routing", "micr.routing"), account: digits("account", "micr.account"),
      serial: digits("serial", "micr.serial") };
    if (micr.routing.length !== 9) throw Object.assign(new Error(FIELD_HELP["micr.routing"]), { param: "micr.routing" });
    const [front, back] = await Promise.all([readImage(form.elements.front_image, "front_image"),
      readImage(form.elements.back_image, "back_image")]);
    try {
      return await post("/v1/check-deposits", { amount, currency: "USD", micr, front_image: front, back_image: back,
        endorsed: form.elements.endorsed.checked }, { key, otp });
    } catch (error) {
      throw plainError(error);
    }
  }, (deposit) => {
    form.reset();
    announce(`Deposited ${money(deposit)}.`);
    const heading = h("h3", { id: "deposited-title", tabindex: "-1", text: `${money(deposit)} deposited` });
    result.replaceChildren(h("section", { class: "card notice", "aria-labelledby": "deposited-title" }, heading,
      h("p", { text: deposit.holds?.length ? "It is in your balance now; it becomes available to spend as follows." : "All of it is available now." }),
      availability(deposit),
      h("button", { type: "button", class: "secondary", text: "Show it in my deposits", onclick: refresh })));
    heading.focus();
  });
  return [form, result];
}

export async function checksScreen(view, { go }) {
  view.append(h("h1", { text: "Checks" }));
  try {
    await get("/v1/checks?limit=1");
  } catch (error) {
    const text = error.code === "not_found" ? "Checks are not available here yet." : plainError(error).message;
    view.append(h("p", { class: "card notice", role: "note", text }));
    return;
  }
  const refresh = () => go(`#/checks?r=${Date.now()}`);
  view.append(...writeForm(refresh), ...depositForm(refresh),
    h("h2", { id: "checks-title", text: "Checks you wrote" }),
    pagedList({ label: "Checks you wrote", tag: "ul", empty: "No checks written yet.",
      fetchPage: (cursor) => get(`/v1/checks${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ""}`),
      render: (c) => checkItem(c, refresh) }),
    h("h2", { text: "Checks you deposited" }),
    pagedList({ label: "Checks you deposited", tag: "ul", empty: "No check deposits yet.",
      fetchPage: (cursor) => get(`/v1/check-deposits${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ""}`),
      render: depositItem }));
}

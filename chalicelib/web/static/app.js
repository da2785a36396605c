// Flock's web client: a hash router, the shell, and sign-in. The screens
// live in modules of their own (social.js, wallet.js, cards.js, checks.js, loans.js, ...).
import { api, ApiError, session, whenSignedOut } from "./api.js";
import { announce, clear, field, h, showError } from "./dom.js";
import * as cards from "./cards.js";
import * as checks from "./checks.js";
import * as loans from "./loans.js";
import * as security from "./security.js";
import * as social from "./social.js";
import * as wallet from "./wallet.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");

const SCREENS = {
  timeline: social.timeline,
  post: social.postScreen,
  u: social.profile,
  search: social.search,
  messages: social.messages,
  wallet: wallet.walletScreen,
  pay: wallet.payScreen,
  statements: wallet.statementsScreen,
  security: security.securityScreen,
  cards: cards.cardsScreen,
  checks: checks.checksScreen,
  loans: loans.loansScreen,
  login: loginScreen,
  signup: signupScreen,
};
const PUBLIC = new Set(["login", "signup"]);
const LINKS = [["timeline", "Home"], ["search", "Search"], ["messages", "Messages"], ["wallet", "Wallet"],
  ["pay", "Pay"], ["statements", "Statements"]];

/** "#/u/alice?x=1" -> {name: "u", args: ["alice"], query: URLSearchParams} */
function parseHash() {
  const [path, queryText] = location.hash.replace(/^#\/?/, "").split("?");
  const [name, ...args] = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { name: name || "timeline", args, query: new URLSearchParams(queryText || "") };
}

export function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function renderNav(me, current, args) {
  clear(nav);
  if (!me) {
    nav.hidden = true;
    return;
  }
  nav.hidden = false;
  const list = h("ul");
  for (const [name, text] of LINKS) {
    list.append(h("li", {}, h("a", { href: `#/${name}`, "aria-current": name === current ? "page" : null, text })));
  }
  list.append(h("li", {}, h("a", { href: `#/u/${encodeURIComponent(me.handle)}`,
    "aria-current": current === "u" && args[0]?.toLowerCase() === me.handle.toLowerCase() ? "page" : null,
    text: "Profile" })));
  const out = h("button", { type: "button", class: "secondary", text: "Log out" });
  out.addEventListener("click", logout);
  list.append(h("li", {}, out));
  nav.append(list);
}

async function logout() {
  try {
    await api("POST", "/v1/auth/logout");
  } catch { /* the token may have expired already */ }
  session.clear();
  announce("You are logged out.");
  go("#/login");
}

let routing = 0;
async function route() {
  const ticket = ++routing;
  const hash = location.hash;
  const { name, args, query } = parseHash();
  const current = session.load();
  const screen = SCREENS[name] || social.notFound;
  if (!current && !PUBLIC.has(name)) return go("#/login");
  if (current && PUBLIC.has(name)) return go("#/timeline");
  renderNav(current?.user, name, args);
  const view = h("div", { class: "screen" });
  try {
    await screen(view, { args, query, me: current?.user, go });
  } catch (error) {
    view.replaceChildren(h("h1", { text: "Something went wrong" }), h("p", { class: "form-error", text: error.message }));
  }
  if (ticket !== routing) return; // a newer navigation won
  main.replaceChildren(view);
  main.dataset.route = hash; // what is on screen (tests wait for it)
  const heading = view.querySelector("h1");
  document.title = heading ? `${heading.textContent} · Flock` : "Flock";
  if (document.activeElement === document.body || !main.contains(document.activeElement)) main.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

function signedIn(answer) {
  session.save({ token: answer.token, refresh_token: answer.refresh_token || null, user: answer.user });
  announce(`Welcome, @${answer.user.handle}.`);
  go("#/timeline");
}

function loginScreen(view) {
  const form = h("form", { class: "card auth", "aria-labelledby": "login-title", novalidate: true },
    h("h1", { id: "login-title", text: "Log in to Flock" }),
    field({ label: "Handle", name: "handle", autocomplete: "username", required: true, autocapitalize: "none" }),
    field({ label: "Password", name: "password", type: "password", autocomplete: "current-password", required: true }),
    h("button", { type: "submit", text: "Log in" }),
    h("p", {}, "New here? ", h("a", { href: "#/signup", text: "Create an account" })));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const answer = await api("POST", "/v1/auth/login",
        { body: { handle: form.elements.handle.value.trim(), password: form.elements.password.value } });
      if (answer.mfa_required) view.replaceChildren(mfaForm(answer.mfa_token));
      else signedIn(answer);
    } catch (error) {
      showError(form, error.code === "invalid_credentials" ? Object.assign(error, { param: "password" }) : error);
    } finally {
      button.disabled = false;
    }
  });
  view.append(form);
}

function mfaForm(mfaToken) {
  const form = h("form", { class: "card auth", "aria-labelledby": "mfa-title", novalidate: true },
    h("h1", { id: "mfa-title", text: "Two-step verification" }),
    h("p", { text: "Enter the 6-digit code from your authenticator app, or one of your recovery codes." }),
    field({ label: "Code", name: "code", param: "code", autocomplete: "one-time-code", inputmode: "numeric", required: true }),
    h("button", { type: "submit", text: "Verify" }),
    h("p", {}, h("a", { href: "#/login", text: "Start again" })));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      signedIn(await api("POST", "/v1/auth/mfa", { body: { mfa_token: mfaToken, code: form.elements.code.value.trim() } }));
    } catch (error) {
      showError(form, error.code === "invalid_credentials" ? Object.assign(error, { param: "code" }) : error);
    } finally {
      button.disabled = false;
    }
  });
  setTimeout(() => form.elements.code.focus());
  return form;
}

function signupScreen(view) {
  const form = h("form", { class: "card auth", "aria-labelledby": "signup-title", novalidate: true },
    h("h1", { id: "signup-title", text: "Join Flock" }),
    field({ label: "Handle", name: "handle", autocomplete: "username", required: true, autocapitalize: "none",
      hint: "1–15 letters, digits or _." }),
    field({ label: "Display name (optional)", name: "display_name", autocomplete: "name" }),
    field({ label: "Password", name: "password", type: "password", autocomplete: "new-password", required: true,
      hint: "At least 10 characters." }),
    h("button", { type: "submit", text: "Create account" }),
    h("p", {}, "Have an account? ", h("a", { href: "#/login", text: "Log in" })));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    const body = { handle: form.elements.handle.value.trim(), password: form.elements.password.value };
    const name = form.elements.display_name.value.trim();
    if (name) body.display_name = name;
    try {
      signedIn(await api("POST", "/v1/auth/signup", { body }));
    } catch (error) {
      showError(form, error.code === "handle_taken" ? Object.assign(error, { param: "handle" }) : error);
    } finally {
      button.disabled = false;
    }
  });
  view.append(form);
}

whenSignedOut(() => go("#/login"));
window.addEventListener("hashchange", route);
document.getElementById("skip").addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});
export { ApiError };
route();

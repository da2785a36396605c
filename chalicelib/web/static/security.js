// Security of the person: password, two-step verification (TOTP), the
// sessions signed in, and the security events. Changes that need a fresh
// authenticator code (step-up) ask for it and resend.
import { api, get, post } from "./api.js";
import { announce, field, h, showError, time, userText } from "./dom.js";
import { moneyIntent as stepUpIntent, pagedList } from "./ui.js";

const q = (params) => new URLSearchParams(Object.entries(params).filter(([, v]) => v)).toString();

function passwordForm() {
  const form = h("form", { class: "card", novalidate: true, "aria-labelledby": "pw-title" },
    h("h2", { id: "pw-title", text: "Change password" }),
    field({ label: "Current password", name: "current_password", type: "password", autocomplete: "current-password" }),
    field({ label: "New password", name: "new_password", type: "password", autocomplete: "new-password",
      hint: "At least 10 characters. Your other sessions end." }));
  const button = h("button", { type: "submit", text: "Change password" });
  form.append(button);
  stepUpIntent(form, button, (_key, otp) => api("POST", "/v1/me/password", { otp, body: {
    current_password: form.elements.current_password.value, new_password: form.elements.new_password.value } }),
  () => {
    form.reset();
    announce("Password changed; your other sessions have ended.");
  });
  return form;
}

/** The two-step verification card: what is on now, and the one next step
 * from there (set up, or turn off). It redraws itself when that changes. */
function twoFactor(on) {
  const box = h("section", { class: "card", "aria-labelledby": "tf-title" });
  const show = (isOn, notice = null) => {
    box.replaceChildren(h("h2", { id: "tf-title", text: "Two-step verification" }),
      h("p", { class: "tf-state" }, h("strong", { text: isOn ? "On." : "Off." }),
        isOn ? " Signing in, sending money to someone new or a large amount, and changing your password ask for a 6-digit code from your authenticator app."
          : " With an authenticator app, signing in and sending money to someone new ask for a 6-digit code."),
      ...[notice, isOn ? turnOffForm(show) : setUp(box, show)].filter(Boolean));
  };
  show(on);
  return box;
}

function setUp(box, show) {
  const start = h("button", { type: "button", text: "Set up an authenticator app" });
  const slot = h("div", {}, start);
  start.addEventListener("click", async () => {
    start.disabled = true;
    try {
      const enrolment = await post("/v1/me/2fa/totp");
      slot.replaceChildren(confirmForm(enrolment, show));
      slot.querySelector("input").focus();
    } catch (error) {
      showError(box, error);
      start.disabled = false;
    }
  });
  return slot;
}

function turnOffForm(show) {
  const off = h("details", {}, h("summary", { text: "Turn two-step verification off" }));
  const offForm = h("form", { novalidate: true, "aria-label": "Turn two-step verification off" },
    field({ label: "Password", name: "password", type: "password", autocomplete: "current-password" }),
    field({ label: "Authenticator or recovery code", name: "code", autocomplete: "one-time-code" }));
  const offButton = h("button", { type: "submit", class: "secondary", text: "Turn off" });
  offForm.append(offButton);
  stepUpIntent(offForm, offButton, (_key, otp) => api("DELETE", "/v1/me/2fa", { otp,
    body: { password: offForm.elements.password.value, code: offForm.elements.code.value.trim() } }), () => {
    show(false);
    announce("Two-step verification is off.");
  });
  off.append(offForm);
  return off;
}

function confirmForm(enrolment, show) {
  const form = h("form", { novalidate: true, "aria-label": "Confirm the authenticator" },
    h("p", { text: "Add this key to your authenticator app (or open the link on your phone), then enter the code it shows." }),
    h("p", {}, h("code", { class: "secret", "aria-label": "Setup key", text: enrolment.secret.replace(/(.{4})/g, "$1 ").trim() })),
    h("p", {}, h("a", { href: enrolment.otpauth_uri, text: "Open in an authenticator app" })),
    field({ label: "Code from the app", name: "code", inputmode: "numeric", autocomplete: "one-time-code" }),
    h("button", { type: "submit", text: "Turn on" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const answer = await post("/v1/me/2fa/totp/confirm", { code: form.elements.code.value.trim() });
      show(true, h("div", { role: "alert", class: "recovery" },
        h("p", { text: "Two-step verification is on. Keep these recovery codes somewhere safe; each works once, and they are shown only now:" }),
        h("ul", { class: "codes", "aria-label": "Recovery codes" },
          answer.recovery_codes.map((c) => h("li", {}, h("code", { text: c }))))));
    } catch (error) {
      showError(form, error);
    }
  });
  return form;
}

function sessionItem(s, refresh) {
  const device = userText("strong", s.user_agent || "Unknown device");
  device.id = `session-${s.id}`; // names the device to the button's screen-reader description
  const item = h("li", { class: "card session" },
    device, s.current ? h("span", { class: "badge", text: "this device" }) : null,
    h("p", { class: "muted small" }, `From ${s.ip || "?"} · signed in `, time(s.created_at),
      s.last_used_at ? [" · last used ", time(s.last_used_at)] : null));
  if (!s.current) {
    const end = h("button", { type: "button", class: "secondary", text: "End this session", "aria-describedby": device.id });
    end.addEventListener("click", async () => {
      end.disabled = true;
      try {
        await api("DELETE", `/v1/me/sessions/${encodeURIComponent(s.id)}`);
        announce("Session ended.");
        refresh();
      } catch (error) {
        announce(error.message);
        end.disabled = false;
      }
    });
    item.append(end);
  }
  return item;
}

export async function securityScreen(view, { go }) {
  const refresh = () => go(`#/security?r=${Date.now()}`);
  const me = await get("/v1/me");
  view.append(h("h1", { text: "Security" }), passwordForm(), twoFactor(Boolean(me.two_factor)),
    h("h2", { text: "Where you are signed in" }),
    pagedList({ label: "Sessions", tag: "ul", empty: "No sessions.", render: (s) => sessionItem(s, refresh),
      fetchPage: (cursor) => get(`/v1/me/sessions?${q({ cursor })}`) }),
    h("h2", { text: "Recent security events" }),
    pagedList({ label: "Security events", tag: "ul", empty: "Nothing yet.",
      render: (e) => h("li", { class: "entry" }, h("span", { class: "kind", text: e.type.replaceAll("_", " ") }),
        h("span", { class: "muted small" }, time(e.created_at), e.ip ? ` · ${e.ip}` : "")),
      fetchPage: (cursor) => get(`/v1/me/security-events?${q({ cursor })}`) }));
}

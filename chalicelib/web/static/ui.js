// Pieces the screens share: the money-moving form, paged lists, posts, people.
import { api, ApiError, newKey, post, session } from "./api.js";
import { announce, clearErrors, field, h, showError, time, userText } from "./dom.js";
import { money, parseAmount } from "./money.js";
import { videoPlayer, viewCount } from "./videos.js";

/**
 * One intent that moves money. The Idempotency-Key is made once for the
 * intent and kept until it succeeds (a retry after a timeout or a refusal
 * reuses it, so money moves at most once); the button is disabled while the
 * request is out, so a double click sends one request. A 403
 * step_up_required asks for an authenticator code and sends again.
 *
 * `send(key, otp)` performs the request; `done(result)` runs on success;
 * `otpHint` says why the code is asked for (risky actions that move no money).
 */
// Which field a refusal without `param` is about, on a form that has it.
const MONEY_PARAMS = { insufficient_funds: "amount", limit_exceeded: "amount", self_transfer: "to",
  not_eligible: "to", not_found: "to", step_up_required: "Flock-OTP" };

export function moneyIntent(form, button, send, done, { otpHint = "This payment needs a code from your authenticator app." } = {}) {
  let key = newKey();
  let otpField = null;
  const run = async (event) => {
    event?.preventDefault();
    if (button.disabled) return;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    clearErrors(form);
    try {
      const otp = otpField ? otpField.querySelector("input").value.trim() : undefined;
      const result = await send(key, otp || undefined);
      key = newKey(); // the next intent
      if (otpField) {
        otpField.remove();
        otpField = null;
      }
      await done(result);
    } catch (error) {
      if (error instanceof ApiError && error.code === "step_up_required" && !otpField) {
        otpField = field({ label: "Authenticator code", name: "otp", param: "Flock-OTP", inputmode: "numeric",
          autocomplete: "one-time-code", hint: otpHint });
        button.before(otpField);
      }
      showError(form, error, MONEY_PARAMS);
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  };
  form.addEventListener("submit", run);
  return run;
}

/** The amount field of a money form: parsed when sent. */
export function amountField(label = "Amount (USD)", name = "amount") {
  return field({ label, name, inputmode: "decimal", autocomplete: "off", placeholder: "0.00", required: true });
}

export function readAmount(form, name = "amount") {
  const input = form.elements[name];
  try {
    return parseAmount(input.value);
  } catch (error) {
    throw Object.assign(error, { param: name });
  }
}

/**
 * A list that pages by cursor: the next page loads when its end scrolls
 * into view, or with the "Load more" button (keyboard and screen readers).
 */
export function pagedList({ label, fetchPage, render, empty = "Nothing here yet.", tag = "div", feed = false }) {
  const list = h(tag, { class: "list", "aria-label": tag === "div" ? null : label });
  // A feed holds articles: the role (and its name) come with the first one,
  // an empty feed being invalid ARIA.
  const markFeed = () => {
    if (feed && list.children.length && !list.hasAttribute("role")) {
      list.setAttribute("role", "feed");
      list.setAttribute("aria-label", label);
    }
  };
  const more = h("button", { type: "button", class: "secondary more", text: "Load more" });
  const note = h("p", { class: "muted", hidden: true });
  const wrap = h("section", { class: "paged", "aria-label": label }, list, note, more);
  let cursor = null;
  let loading = false;
  let done = false;
  const load = async () => {
    if (loading || done) return;
    loading = true;
    more.disabled = true;
    more.textContent = "Loading…";
    list.setAttribute("aria-busy", "true");
    try {
      const page = await fetchPage(cursor);
      for (const item of page.data) list.append(render(item));
      cursor = page.next_cursor;
      done = !cursor || !page.data.length;
      if (!list.children.length) {
        note.textContent = empty;
        note.hidden = false;
      }
    } catch (error) {
      note.textContent = error.message;
      note.hidden = false;
      done = true;
    } finally {
      loading = false;
      more.disabled = false;
      more.textContent = "Load more";
      more.hidden = done;
      list.setAttribute("aria-busy", "false");
      markFeed();
      if (!done) setTimeout(loadIfNear, 50); // the end still in view after this page
    }
  };
  const loadIfNear = () => {
    if (more.isConnected && more.getBoundingClientRect().top < window.innerHeight + 400) load();
  };
  more.addEventListener("click", load);
  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) load();
  }, { rootMargin: "400px" });
  observer.observe(more);
  wrap.prepend = (node) => {
    note.hidden = true;
    list.prepend(node);
    markFeed();
  };
  load();
  return wrap;
}

export const userLink = (handle) => h("a", { href: `#/u/${encodeURIComponent(handle)}`, class: "handle", text: `@${handle}` });

export function userRow(user) {
  return h("div", { class: "card user-row" },
    user.display_name ? userText("strong", user.display_name) : null, " ", userLink(user.handle),
    user.verified ? h("span", { class: "badge", text: "verified" }) : null,
    user.bio ? userText("p", user.bio, { class: "bio" }) : null);
}

const liked = new Set(); // posts liked in this tab (the API has no "liked by me" yet)

/** A post. Its text is a text node with its own direction. */
export function postCard(p, { onChange } = {}) {
  const mine = p.author.toLowerCase() === (session.load()?.user?.handle || "").toLowerCase();
  const headingId = `post-${p.id}-by`;
  const likeButton = h("button", { type: "button", class: "link-button", "aria-pressed": String(liked.has(p.id)),
    text: `Like · ${p.like_count}` });
  likeButton.addEventListener("click", async () => {
    likeButton.disabled = true;
    try {
      const answer = await api(liked.has(p.id) ? "DELETE" : "POST", `/v1/posts/${p.id}/likes`);
      answer.liked ? liked.add(p.id) : liked.delete(p.id);
      p.like_count = answer.like_count;
      likeButton.setAttribute("aria-pressed", String(answer.liked));
      likeButton.textContent = `Like · ${answer.like_count}`;
    } catch (error) {
      announce(error.message);
    } finally {
      likeButton.disabled = false;
    }
  });
  const tipToggle = h("button", { type: "button", class: "link-button", "aria-expanded": "false", text: "Tip" });
  const tipSlot = h("div");
  tipToggle.addEventListener("click", () => {
    if (tipSlot.firstChild) {
      tipSlot.replaceChildren();
      tipToggle.setAttribute("aria-expanded", "false");
      return;
    }
    tipToggle.setAttribute("aria-expanded", "true");
    tipSlot.append(tipForm(p, (transfer) => {
      p.tip_total += transfer.amount;
      tipSlot.replaceChildren();
      tipToggle.setAttribute("aria-expanded", "false");
      announce(`You tipped @${p.author} ${money(transfer)}.`);
      replace();
    }));
    tipSlot.querySelector("input").focus();
  });
  const views = p.has_video ? h("span", { class: "muted views", text: viewCount(p.view_count) }) : null;
  const onViewed = () => {
    p.view_count += 1;
    views.textContent = viewCount(p.view_count);
  };
  const card = h("article", { class: "card post", "aria-labelledby": headingId, "data-post-id": p.id },
    h("header", { class: "post-head" },
      h("span", { id: headingId }, userLink(p.author)), " ", h("a", { href: `#/post/${p.id}`, class: "muted" }, time(p.created_at))),
    p.reply_to ? h("p", { class: "muted small" }, "Replying to ", h("a", { href: `#/post/${p.reply_to}`, text: "a post" })) : null,
    userText("p", p.text, { class: "post-text" }),
    p.has_video ? videoPlayer(p, onViewed) : null,
    p.price || p.audience === "subscribers" ? lockLine(p, replace) : null,
    h("footer", { class: "post-actions" },
      likeButton,
      h("a", { href: `#/post/${p.id}`, class: "link-button" }, `Reply · ${p.reply_count}`),
      tipToggle,
      p.tip_total ? h("span", { class: "muted", text: `Tips ${money({ amount: p.tip_total, currency: "USD" })}` }) : null,
      views,
      mine ? deleteButton(p, () => card.remove()) : null),
    tipSlot);
  function replace(updated = p) {
    const fresh = postCard(updated, { onChange });
    card.replaceWith(fresh);
    onChange?.(updated);
    return fresh;
  }
  return card;
}

function deleteButton(p, gone) {
  const button = h("button", { type: "button", class: "link-button", text: "Delete" });
  button.addEventListener("click", async () => {
    if (button.dataset.armed !== "yes") { // a second press confirms
      button.dataset.armed = "yes";
      button.textContent = "Delete for good?";
      return;
    }
    button.disabled = true;
    try {
      await api("DELETE", `/v1/posts/${p.id}`);
      announce("Post deleted.");
      gone();
    } catch (error) {
      announce(error.message);
      button.disabled = false;
    }
  });
  return button;
}

function lockLine(p, replace) {
  if (!p.locked) {
    return h("p", { class: "paid" }, p.price ? `Paid post · ${money(p.price)} · unlocked` : "Subscribers only");
  }
  if (!p.price) return h("p", { class: "paid" }, "Subscribers only: subscribe to @", p.author, " to read all of it.");
  const form = h("form", { class: "paid inline" });
  const button = h("button", { type: "submit", text: `Unlock for ${money(p.price)}` });
  form.append(h("span", { text: `Paid post · ${money(p.price)}` }), " ", button);
  moneyIntent(form, button, (key, otp) => post(`/v1/posts/${p.id}/unlock`, undefined, { key, otp }), async () => {
    const fresh = await api("GET", `/v1/posts/${p.id}`);
    announce("Unlocked.");
    replace(fresh).querySelector(".post-text").focus?.();
  });
  return form;
}

function tipForm(p, done) {
  const form = h("form", { class: "inline-form", "aria-label": `Tip @${p.author}` });
  const button = h("button", { type: "submit", text: "Send tip" });
  form.append(amountField("Tip amount (USD)"), button);
  moneyIntent(form, button, (key, otp) =>
    post(`/v1/posts/${p.id}/tips`, { amount: readAmount(form), currency: "USD" }, { key, otp }), done);
  return form;
}

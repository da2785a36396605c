// Social screens: timeline and compose, a post and its replies, profiles,
// search, direct messages with payments.
import { api, get, post } from "./api.js";
import { announce, clearErrors, field, h, select, showError, time, userText } from "./dom.js";
import { money, parseAmount } from "./money.js";
import { amountField, moneyIntent, pagedList, postCard, readAmount, userLink, userRow } from "./ui.js";
import { videoAttachment } from "./videos.js";

const q = (params) => new URLSearchParams(Object.entries(params).filter(([, v]) => v)).toString();

export function notFound(view) {
  view.append(h("h1", { text: "Not found" }), h("p", {}, "No such page. ", h("a", { href: "#/timeline", text: "Go home" })));
}

function composeForm({ replyTo = null, onPosted }) {
  const form = h("form", { class: "card compose", "aria-label": replyTo ? "Reply" : "New post", novalidate: true });
  const text = field({ label: replyTo ? "Your reply" : "What's happening?", name: "text", type: "textarea",
    maxlength: 280, rows: 3, required: true });
  const counter = h("span", { class: "muted small", "aria-live": "polite", text: "0 / 280" });
  const button = h("button", { type: "submit", text: replyTo ? "Reply" : "Post" });
  form.append(text);
  const video = replyTo ? null : videoAttachment();
  if (!replyTo) {
    const extras = h("div", { class: "row" },
      field({ label: "Price to unlock (optional, USD)", name: "price", inputmode: "decimal", placeholder: "0.00" }),
      select({ label: "Audience", name: "audience", options: [["public", "Everyone"], ["subscribers", "Subscribers only"]] }));
    form.append(video.element, extras);
  }
  form.append(h("div", { class: "row end" }, counter, button));
  const textarea = form.elements.text;
  textarea.addEventListener("input", () => {
    counter.textContent = `${[...textarea.value].length} / 280`;
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    button.disabled = true;
    try {
      const body = { text: textarea.value };
      if (replyTo) body.reply_to = replyTo;
      else {
        const price = form.elements.price.value.trim();
        if (price) {
          try {
            body.price = { amount: parseAmount(price), currency: "USD" };
          } catch (error) {
            throw Object.assign(error, { param: "price" });
          }
        }
        body.audience = form.elements.audience.value;
        // Last: a price typed wrong is said before any upload starts.
        form.setAttribute("aria-busy", "true");
        const videoId = await video.ready();
        if (videoId) body.video_id = videoId;
      }
      const created = await post("/v1/posts", body);
      form.reset();
      video?.reset();
      counter.textContent = "0 / 280";
      announce(replyTo ? "Reply posted." : "Posted.");
      onPosted(created);
    } catch (error) {
      showError(form, error);
    } finally {
      button.disabled = false;
      form.removeAttribute("aria-busy");
    }
  });
  return form;
}

export async function timeline(view) {
  const feed = pagedList({ label: "Timeline", feed: true, render: (p) => postCard(p),
    empty: "Your timeline is empty: post something, or follow people (try Search).",
    fetchPage: (cursor) => get(`/v1/timeline?${q({ limit: 20, cursor })}`) });
  view.append(h("h1", { text: "Home" }), composeForm({ onPosted: (p) => feed.prepend(postCard(p)) }), feed);
}

export async function postScreen(view, { args }) {
  const p = await get(`/v1/posts/${encodeURIComponent(args[0])}`);
  view.append(h("h1", { text: `Post by @${p.author}` }));
  if (p.reply_to) {
    try {
      view.append(h("p", { class: "muted", text: "In reply to" }), postCard(await get(`/v1/posts/${p.reply_to}`)));
    } catch { /* the parent was deleted */ }
  }
  const replies = h("div", { class: "list", "aria-label": "Replies" });
  view.append(postCard(p), composeForm({ replyTo: p.id, onPosted: (r) => replies.append(postCard(r)) }),
    h("h2", { text: "Replies" }), replies);
  // Replies come from the timeline (there is no replies list in the API yet).
  const page = await get("/v1/timeline?limit=100");
  const known = page.data.filter((r) => r.reply_to === p.id).reverse();
  for (const r of known) replies.append(postCard(r));
  if (!known.length) replies.append(h("p", { class: "muted", text: "No replies you can see yet." }));
}

async function isFollowing(me, handle) {
  let cursor = null;
  for (let pages = 0; pages < 10; pages++) {
    const page = await get(`/v1/users/${encodeURIComponent(me)}/following?${q({ limit: 100, cursor })}`);
    if (page.data.some((u) => u.handle.toLowerCase() === handle.toLowerCase())) return true;
    cursor = page.next_cursor;
    if (!cursor) return false;
  }
  return false;
}

async function people(view, handle, which) {
  view.append(h("h1", {}, which === "followers" ? "Followers of " : "Followed by ", userLink(handle)),
    pagedList({ label: which === "followers" ? "Followers" : "Following", render: userRow, empty: "Nobody yet.",
      fetchPage: (cursor) => get(`/v1/users/${encodeURIComponent(handle)}/${which}?${q({ cursor })}`) }));
}

export async function profile(view, { args, me, go }) {
  const handle = args[0];
  if (args[1] === "followers" || args[1] === "following") return people(view, handle, args[1]);
  const user = await get(`/v1/users/${encodeURIComponent(handle)}`);
  const own = user.handle.toLowerCase() === me.handle.toLowerCase();
  const base = `#/u/${encodeURIComponent(user.handle)}`;
  const followers = h("a", { href: `${base}/followers` });
  const countsText = () => {
    followers.textContent = `${user.follower_count} ${user.follower_count === 1 ? "follower" : "followers"}`;
  };
  countsText();
  const counts = h("p", { class: "muted" }, followers, " · ",
    h("a", { href: `${base}/following`, text: `${user.following_count} following` }));
  const head = h("section", { class: "card profile", "aria-label": "Profile" },
    h("h1", {}, user.display_name ? userText("span", user.display_name) : `@${user.handle}`),
    h("p", {}, userLink(user.handle), user.verified ? h("span", { class: "badge", text: "verified" }) : null),
    user.bio ? userText("p", user.bio, { class: "bio" }) : null, counts);
  view.append(head);
  if (!own) {
    const following = await isFollowing(me.handle, user.handle);
    const follow = h("button", { type: "button", "aria-pressed": String(following), text: following ? "Following" : "Follow" });
    follow.addEventListener("click", async () => {
      follow.disabled = true;
      try {
        const now = follow.getAttribute("aria-pressed") === "true";
        const answer = await api(now ? "DELETE" : "POST", `/v1/users/${encodeURIComponent(user.handle)}/follow`);
        follow.setAttribute("aria-pressed", String(answer.following));
        follow.textContent = answer.following ? "Following" : "Follow";
        user.follower_count += answer.following === now ? 0 : (answer.following ? 1 : -1);
        countsText();
        announce(answer.following ? `You follow @${user.handle}.` : `You unfollowed @${user.handle}.`);
      } catch (error) {
        announce(error.message);
      } finally {
        follow.disabled = false;
      }
    });
    const message = h("button", { type: "button", class: "secondary", text: "Message" });
    message.addEventListener("click", async () => {
      try {
        const conv = await post("/v1/conversations", { with: user.handle });
        go(`#/messages/${conv.id}?with=${encodeURIComponent(user.handle)}`);
      } catch (error) {
        announce(error.message);
      }
    });
    head.append(h("div", { class: "row" }, follow, message,
      h("a", { class: "button secondary", href: `#/pay?to=${encodeURIComponent(user.handle)}`, text: "Send money" }),
      subscribeButton(user)));
  } else {
    head.append(editProfile(user), h("p", {}, h("a", { href: "#/security", text: "Security: password, two-step verification, sessions" })));
  }
  view.append(h("h2", { text: "Posts" }), pagedList({ label: `Posts by @${user.handle}`, feed: true, render: (p) => postCard(p),
    empty: "No posts yet.", fetchPage: (cursor) => get(`/v1/users/${encodeURIComponent(user.handle)}/posts?${q({ cursor })}`) }));
}

function subscribeButton(user) {
  const form = h("form", { class: "inline" });
  const button = h("button", { type: "submit", class: "secondary", text: "Subscribe" });
  form.append(button);
  moneyIntent(form, button, (key, otp) => post(`/v1/users/${encodeURIComponent(user.handle)}/subscription`, undefined, { key, otp }),
    (sub) => {
      announce(`Subscribed to @${user.handle} for ${money(sub.price)} a month.`);
      button.textContent = "Subscribed";
      button.disabled = true;
    });
  return form;
}

function editProfile(user) {
  const details = h("details", {}, h("summary", { text: "Edit profile" }));
  const form = h("form", { novalidate: true },
    field({ label: "Display name", name: "display_name", value: user.display_name || "" }),
    field({ label: "Bio", name: "bio", type: "textarea", rows: 2 }),
    h("button", { type: "submit", text: "Save" }));
  form.elements.bio.value = user.bio || "";
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const body = { bio: form.elements.bio.value };
      if (form.elements.display_name.value.trim()) body.display_name = form.elements.display_name.value.trim();
      await api("PATCH", "/v1/me", { body });
      announce("Profile saved.");
      location.reload();
    } catch (error) {
      showError(form, error);
    }
  });
  const price = h("form", { novalidate: true, "aria-label": "Subscription price" },
    field({ label: "Monthly subscription price (USD, empty for none)", name: "amount", inputmode: "decimal" }),
    h("button", { type: "submit", class: "secondary", text: "Set price" }));
  price.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const text = price.elements.amount.value.trim();
      const body = text ? { amount: readAmount(price), currency: "USD" } : null;
      await api("PUT", "/v1/me/subscription-price", { body });
      announce(text ? "Subscription price set." : "Subscriptions turned off.");
    } catch (error) {
      showError(price, error);
    }
  });
  details.append(form, price);
  return details;
}

export async function search(view, { query, go }) {
  const text = query.get("q") || "";
  const type = query.get("type") === "users" ? "users" : "posts";
  const form = h("form", { role: "search", class: "card", novalidate: true },
    field({ label: "Search posts or people", name: "q", type: "search", value: text }),
    h("fieldset", { class: "row" }, h("legend", { text: "Look for" }),
      ...[["posts", "Posts"], ["users", "People"]].map(([value, label]) =>
        h("label", { class: "radio" }, h("input", { type: "radio", name: "type", value, checked: value === type }), ` ${label}`))),
    h("button", { type: "submit", text: "Search" }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go(`#/search?${q({ q: form.elements.q.value.trim(), type: form.elements.type.value })}`);
  });
  view.append(h("h1", { text: "Search" }), form);
  if (text) {
    view.append(h("h2", { text: `Results for “${text}”` }), pagedList({ label: "Search results", feed: type === "posts",
      render: (item) => (type === "users" ? userRow(item) : postCard(item)), empty: "Nothing found.",
      fetchPage: (cursor) => get(`/v1/search?${q({ q: text, type, cursor })}`) }));
  }
}

export async function messages(view, ctx) {
  if (ctx.args[0]) return conversation(view, ctx);
  const form = h("form", { class: "card", novalidate: true, "aria-label": "New conversation" },
    field({ label: "Message someone (handle)", name: "with", autocapitalize: "none" }),
    h("button", { type: "submit", text: "Open conversation" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const handle = form.elements.with.value.trim().replace(/^@/, "");
      const conv = await post("/v1/conversations", { with: handle });
      ctx.go(`#/messages/${conv.id}?with=${encodeURIComponent(handle)}`);
    } catch (error) {
      showError(form, error);
    }
  });
  view.append(h("h1", { text: "Messages" }), form, pagedList({ label: "Conversations", empty: "No conversations yet.",
    fetchPage: (cursor) => get(`/v1/conversations?${q({ cursor })}`),
    render: (c) => h("a", { class: "card conv", href: `#/messages/${c.id}?with=${encodeURIComponent(c.with || "")}` },
      h("strong", { text: `@${c.with}` }), c.unread_count ? h("span", { class: "badge", text: `${c.unread_count} new` }) : null,
      c.last_message_preview ? userText("span", c.last_message_preview, { class: "preview" }) : null,
      c.last_activity_at ? time(c.last_activity_at) : null) }));
}

function messageItem(m, me) {
  const mine = m.sender === me.handle;
  return h("li", { class: `message ${mine ? "mine" : "theirs"}` },
    h("span", { class: "sr-only", text: mine ? "You: " : `@${m.sender}: ` }),
    m.text ? userText("p", m.text) : null,
    m.payment ? h("p", { class: "payment", text: `${mine ? "You sent" : "Sent you"} ${money(m.payment)}` }) : null,
    h("span", { class: "muted small" }, time(m.created_at)));
}

async function conversation(view, { args, query, me }) {
  const id = args[0];
  const other = query.get("with") || "them";
  const list = h("ol", { class: "messages", "aria-label": `Messages with @${other}` });
  let cursor = null;
  const older = h("button", { type: "button", class: "secondary", text: "Load older messages", hidden: true });
  const loadOlder = async () => {
    const page = await get(`/v1/conversations/${id}/messages?${q({ cursor })}`);
    for (const m of page.data) list.prepend(messageItem(m, me)); // newest first -> oldest on top
    cursor = page.next_cursor;
    older.hidden = !cursor;
  };
  older.addEventListener("click", loadOlder);
  await loadOlder();
  const form = h("form", { class: "card", novalidate: true, "aria-label": "Write a message" },
    field({ label: "Message", name: "text", type: "textarea", rows: 2, maxlength: 280 }),
    h("button", { type: "submit", text: "Send message" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    try {
      const m = await post(`/v1/conversations/${id}/messages`, { text: form.elements.text.value });
      list.append(messageItem(m, me));
      form.reset();
    } catch (error) {
      showError(form, error);
    }
  });
  const pay = h("form", { class: "card", novalidate: true, "aria-label": `Pay @${other}` },
    h("h2", { text: `Pay @${other}` }), h("div", { class: "row" }, amountField(), field({ label: "Note (optional)", name: "note", maxlength: 280 })));
  const payButton = h("button", { type: "submit", text: "Send payment" });
  pay.append(payButton);
  moneyIntent(pay, payButton, (key, otp) => {
    const body = { amount: readAmount(pay), currency: "USD" };
    if (pay.elements.note.value.trim()) body.note = pay.elements.note.value.trim();
    return post(`/v1/conversations/${id}/payments`, body, { key, otp });
  }, (m) => {
    list.append(messageItem(m, me));
    pay.reset();
    announce(`Sent ${money(m.payment)} to @${other}.`);
  });
  view.append(h("h1", {}, "Messages with ", userLink(other)), older, list, form, pay);
}

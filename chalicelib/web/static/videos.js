// Videos (API.md, Videos). An attached file goes straight from the browser
// to storage with the presigned POST the API hands out (never through
// Flock), then Flock checks it; a post's video plays from a short-lived URL
// Flock signs for whoever may watch it. These are the only requests the page
// makes to another origin, which its CSP names.
import { ApiError, get, post } from "./api.js";
import { announce, field, h } from "./dom.js";

const TYPES = ["video/mp4", "video/webm"];

// What each way an upload can fail means to the person who chose the file.
const UPLOAD_FAILURES = {
  network: "The video could not be sent: the connection to storage failed. Check the connection and try again.",
  400: "Storage refused the video: the file changed after it was chosen. Choose it again and retry.",
  403: "Storage refused the video: the upload took too long and its permission ran out. Try again.",
  other: "Storage could not take the video just now. Try again in a moment.",
};

const videoError = (message) => Object.assign(new Error(message), { param: "video_id" });

/** S3 answers a browser's form POST with 204 (or 200/201 if asked). */
function sendToStorage(upload, file, onProgress) {
  const form = new FormData();
  for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
  form.append("file", file); // after the policy's fields: S3 ignores fields after the file
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", upload.url);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve();
      else reject(videoError(UPLOAD_FAILURES[xhr.status] || UPLOAD_FAILURES.other));
    });
    xhr.addEventListener("error", () => reject(videoError(UPLOAD_FAILURES.network)));
    xhr.addEventListener("abort", () => reject(videoError(UPLOAD_FAILURES.network)));
    xhr.send(form);
  });
}

/**
 * The compose form's video: a file input (MP4 or WebM) and the upload's
 * progress. `ready()` uploads the chosen file if it is not uploaded yet and
 * answers the ready video's id (null when none is chosen); a failure throws
 * an Error whose `param` is "video_id" (as the API names it), shown next to the input.
 */
export function videoAttachment() {
  const wrap = field({ label: "Video (optional, MP4 or WebM)", name: "video", param: "video_id", type: "file", dir: null,
    accept: TYPES.join(","), hint: "It goes straight to Flock's private storage, then Flock checks it is a video." });
  const input = wrap.querySelector("input");
  const progress = h("progress", { max: 100, value: 0, "aria-label": "Video upload", hidden: true });
  const note = h("p", { class: "muted small", hidden: true });
  wrap.append(progress, note);
  let uploaded = null; // {file, id}: a failed post after a good upload does not send the file again

  const show = (text) => {
    note.textContent = text;
    note.hidden = !text;
  };
  input.addEventListener("change", () => {
    progress.hidden = true;
    show("");
  });

  async function ready() {
    const file = input.files[0];
    if (!file) return null;
    if (uploaded?.file === file) return uploaded.id;
    if (!TYPES.includes(file.type)) throw videoError("Choose an MP4 or WebM video.");
    if (!file.size) throw videoError("This file is empty: choose a video.");
    let offer;
    try {
      offer = await post("/v1/videos", { content_type: file.type, size_bytes: file.size });
    } catch (error) {
      throw error instanceof ApiError && error.status === 400 ? Object.assign(error, { param: "video_id" }) : error;
    }
    progress.value = 0;
    progress.hidden = false;
    show("Uploading the video…");
    announce("Uploading the video.");
    try {
      await sendToStorage(offer.upload, file, (loaded, total) => {
        const percent = Math.floor((loaded * 100) / total);
        progress.value = percent;
        progress.setAttribute("aria-valuetext", `${percent}% uploaded`);
      });
    } catch (error) {
      progress.hidden = true;
      show("");
      throw error;
    }
    progress.value = 100;
    show("Checking the video…");
    const video = await post(`/v1/videos/${encodeURIComponent(offer.id)}/complete`);
    progress.hidden = true;
    if (video.status !== "ready") {
      show("");
      throw videoError("Flock could not use this file: it is not an MP4 or WebM video, or it did not arrive whole. " +
        "Choose another file.");
    }
    uploaded = { file, id: video.id };
    show("Video uploaded.");
    announce("Video uploaded.");
    return video.id;
  }

  function reset() {
    uploaded = null;
    progress.hidden = true;
    show("");
  }

  return { element: wrap, ready, reset };
}

export const viewCount = (n) => `${n} ${n === 1 ? "view" : "views"}`;

/** Why this viewer may not watch (a 403), in the post's own terms. */
function refusal(p) {
  if (p.audience === "subscribers") return `Only subscribers of @${p.author} can watch this video: subscribe first.`;
  return "Unlock this post first to watch its video.";
}

/**
 * A post's video: a play control, then a <video> playing the URL Flock
 * signs on demand (each press asks for a fresh one, and counts a view). A
 * locked post shows only what is behind its lock: the post's own unlock
 * (or subscribe) flow comes with the post.
 */
export function videoPlayer(p, onViewed) {
  const box = h("div", { class: "video" });
  if (p.locked) {
    box.append(h("p", { class: "muted", text: p.price ? "Video: unlock the post to watch it." :
      `Video: for subscribers of @${p.author}.` }));
    return box;
  }
  const note = h("p", { class: "muted small", hidden: true });
  const say = (text) => {
    note.textContent = text;
    note.hidden = !text;
    if (text) announce(text);
  };
  const play = h("button", { type: "button", class: "secondary play" }, h("span", { "aria-hidden": "true", text: "▶ " }),
    "Play video");
  let current = null; // the <video> on screen
  play.addEventListener("click", async () => {
    play.disabled = true;
    play.setAttribute("aria-busy", "true");
    say("");
    try {
      const answer = await get(`/v1/posts/${encodeURIComponent(p.id)}/video`);
      onViewed?.();
      const video = h("video", { controls: true, preload: "auto", playsinline: true, src: answer.url,
        "aria-label": `Video of @${p.author}'s post` });
      // Undecodable here, or its link ran out: it stays (its controls say
      // so too) and the play control comes back to ask for a fresh link.
      video.addEventListener("error", () => {
        say("This browser cannot play this video, or its link ran out: press Play video to try again.");
        video.after(play);
      });
      if (current) current.remove();
      play.replaceWith(video);
      current = video;
      video.focus();
      announce("Playing the video.");
      video.play().catch(() => { /* the person presses play on the controls instead */ });
    } catch (error) {
      if (error instanceof ApiError && error.status === 403) say(refusal(p));
      else if (error instanceof ApiError && error.status === 404) say("This video is no longer available.");
      else say(error.message);
    } finally {
      play.disabled = false;
      play.removeAttribute("aria-busy");
    }
  });
  box.append(play, note);
  return box;
}

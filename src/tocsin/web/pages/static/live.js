// Live state without reloading: every element with data-live-src is re-fetched (as a
// server-rendered HTML fragment) and swapped in when it changed. A Server-Sent Events
// stream (/live/changes) says at once when incident state changed; while it is
// connected the fragments are also re-checked every SAFETY_SECONDS, and while it is
// not (a proxy that buffers, a network drop) every data-live-every seconds. Items new
// since the last fetch (data-live-item) are announced politely to
// screen readers through #live-announcer. Without JavaScript the pages still work;
// they are just as fresh as the last reload.
"use strict";

(() => {
  const MIN_SECONDS = 2;
  const MAX_BACKOFF_SECONDS = 60;
  const SAFETY_SECONDS = 60;
  let streaming = false;

  function itemsOf(root) {
    const items = new Map();
    for (const el of root.querySelectorAll("[data-live-item]")) {
      items.set(el.dataset.liveItem, el.dataset.liveLabel || "");
    }
    return items;
  }

  function announce(texts) {
    const region = document.getElementById("live-announcer");
    if (!region || texts.length === 0) return;
    const shown = texts.slice(0, 3);
    if (texts.length > shown.length) shown.push(`and ${texts.length - shown.length} more`);
    region.textContent = shown.join(". ");
  }

  function setState(root, text, bad) {
    const state = document.querySelector(`[data-live-state-for="${root.id}"]`);
    if (!state) return;
    state.textContent = text;
    state.classList.toggle("error-text", Boolean(bad));
  }

  // Keep keyboard focus where it was when the element it was on is re-rendered.
  function focusKey(root) {
    const active = document.activeElement;
    if (!active || !root.contains(active)) return null;
    return active.id || null;
  }

  function watch(root) {
    const src = root.dataset.liveSrc;
    const polling = Math.max(MIN_SECONDS, Number(root.dataset.liveEvery) || 5);
    const every = () => (streaming ? SAFETY_SECONDS : polling);
    let known = itemsOf(root);
    let lastHtml = null;
    let failures = 0;
    let timer = null;
    let stopped = false;

    function schedule(seconds) {
      clearTimeout(timer);
      if (!stopped) timer = setTimeout(tick, seconds * 1000);
    }

    async function tick() {
      if (document.hidden) return; // resumed by visibilitychange
      try {
        const response = await fetch(src, {
          credentials: "same-origin",
          headers: { Accept: "text/html", "X-Requested-With": "live" },
          cache: "no-store",
        });
        if (!response.ok || response.headers.get("X-Tocsin-Fragment") !== "1") {
          if (response.redirected || response.status === 401 || response.status === 403) {
            stopped = true;
            setState(root, "Live updates stopped: you are signed out. Reload the page.", true);
            return;
          }
          throw new Error(`HTTP ${response.status}`);
        }
        const html = await response.text();
        failures = 0;
        if (html !== lastHtml) {
          lastHtml = html;
          const holder = document.createElement("div");
          holder.innerHTML = html;
          const fresh = itemsOf(holder);
          const added = [];
          for (const [key, label] of fresh) {
            if (!known.has(key) && label) added.push(label);
          }
          const focused = focusKey(root);
          root.replaceChildren(...holder.childNodes);
          if (focused) document.getElementById(focused)?.focus();
          known = fresh;
          announce(added);
          // State changed under the page's forms: offer a reload rather than stale buttons.
          const reveal = root.dataset.liveReveal && document.getElementById(root.dataset.liveReveal);
          if (reveal && added.length > 0) reveal.hidden = false;
        }
        const now = new Date();
        setState(
          root,
          `Live: updated at ${now.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })}.`,
          false,
        );
        schedule(every());
      } catch (_err) {
        failures += 1;
        const wait = Math.min(MAX_BACKOFF_SECONDS, polling * 2 ** failures);
        setState(root, `Live updates paused: cannot reach Tocsin. Retrying in ${wait} s.`, true);
        schedule(wait);
      }
    }

    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && !stopped) schedule(0);
    });
    // The page was just rendered: its content is fresh, so wait one interval first.
    lastHtml = null;
    schedule(every());
    return {
      now: () => {
        if (!stopped && !document.hidden) schedule(0);
      },
      relax: () => schedule(every()),
    };
  }

  // One stream per page: each "change" event carries a marker; a new marker means
  // something changed since we last looked (also across reconnections).
  function listen(watchers) {
    if (!("EventSource" in window) || watchers.length === 0) return;
    const source = new EventSource("/live/changes");
    let marker = null;
    source.addEventListener("change", (event) => {
      const changed = marker !== null && event.data !== marker;
      marker = event.data;
      if (!streaming) {
        streaming = true;
        for (const w of watchers) w.relax();
      }
      if (changed) for (const w of watchers) w.now();
    });
    source.addEventListener("error", () => {
      // The browser reconnects by itself; poll at the normal pace meanwhile.
      if (streaming) {
        streaming = false;
        for (const w of watchers) w.now();
      }
      if (source.readyState === EventSource.CLOSED) {
        setTimeout(() => listen(watchers), MAX_BACKOFF_SECONDS * 1000);
      }
    });
  }

  function start() {
    const watchers = [];
    for (const root of document.querySelectorAll("[data-live-src]")) watchers.push(watch(root));
    listen(watchers);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

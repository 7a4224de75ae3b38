// Tocsin's service worker (served at /sw.js so its scope is the whole site). It only
// shows pushed pages and opens them when tapped; it caches nothing.
// A push payload is JSON: {title, body, url, tag, actions: [{action, title, url}]}.
"use strict";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (_err) {
    data = { body: event.data ? event.data.text() : "" };
  }
  const actions = Array.isArray(data.actions) ? data.actions.slice(0, 2) : [];
  const options = {
    body: data.body || "",
    tag: data.tag || undefined,
    renotify: Boolean(data.tag),
    requireInteraction: true,
    icon: "/static/favicon.svg",
    data: { url: data.url || "/", actions },
    actions: actions.map((a) => ({ action: a.action, title: a.title })),
  };
  event.waitUntil(self.registration.showNotification(data.title || "Tocsin", options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const data = event.notification.data || {};
  const chosen = (data.actions || []).find((a) => a.action === event.action);
  const url = new URL((chosen && chosen.url) || data.url || "/", self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      for (const w of windows) {
        if (w.url === url && "focus" in w) return w.focus();
      }
      return self.clients.openWindow(url);
    }),
  );
});

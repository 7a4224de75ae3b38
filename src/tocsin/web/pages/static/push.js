// The profile's paging helpers. The add-a-method form shows only the hint of the chosen
// kind and the right keyboard (phone pad for SMS and voice). Web Push for this browser: register the service worker (/sw.js, scope "/"), subscribe
// with the server's VAPID public key, and post the subscription to /profile/push. Tocsin
// adds it as a "push" contact method and sends a verification code through it; the
// service worker (sw.js) shows that code as a notification, like every page after it.
"use strict";

function urlBase64ToUint8Array(base64) {
  const padding = "=".repeat((4 - (base64.length % 4)) % 4);
  const raw = atob((base64 + padding).replace(/-/g, "+").replace(/_/g, "/"));
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i += 1) out[i] = raw.charCodeAt(i);
  return out;
}

function setupPush() {
  const box = document.querySelector(".push-box");
  const button = document.getElementById("push-subscribe");
  const status = document.getElementById("push-status");
  if (!box || !button || !status) return;
  const key = box.dataset.pushKey;
  if (!key) return; // the status already says Web Push is not set up
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !window.isSecureContext) {
    status.textContent = "This browser cannot receive Web Push here (it needs HTTPS and a recent browser).";
    return;
  }
  status.textContent = "";
  button.hidden = false;
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = "Asking the browser…";
    try {
      const permission = await Notification.requestPermission();
      if (permission !== "granted") {
        status.textContent = "Notifications are blocked for this site; allow them in the browser settings.";
        return;
      }
      const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
      await navigator.serviceWorker.ready;
      let subscription = await registration.pushManager.getSubscription();
      if (!subscription) {
        subscription = await registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: urlBase64ToUint8Array(key),
        });
      }
      const body = new FormData();
      body.append("csrf_token", box.dataset.csrf || "");
      body.append("subscription", JSON.stringify(subscription.toJSON()));
      body.append("label", navigator.userAgentData?.platform || "This browser");
      const response = await fetch("/profile/push", { method: "POST", body, credentials: "same-origin" });
      const answer = await response.json();
      if (answer.ok) {
        window.location.assign(answer.next);
      } else {
        status.textContent = `Not added: ${answer.message}`;
      }
    } catch (err) {
      status.textContent = `Could not subscribe: ${err.message || err}`;
    } finally {
      button.disabled = false;
    }
  });
}

function setupKindHints() {
  const kind = document.getElementById("add-kind");
  const address = document.getElementById("add-address");
  if (!kind || !address) return;
  const modes = { sms: "tel", voice: "tel", email: "email", slack: "text" };
  const show = () => {
    for (const item of document.querySelectorAll(".kind-hints [data-kind]")) {
      item.hidden = item.dataset.kind !== kind.value;
    }
    address.setAttribute("inputmode", modes[kind.value] || "url");
  };
  kind.addEventListener("change", show);
  show();
}

function setup() {
  setupKindHints();
  setupPush();
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", setup);
} else {
  setup();
}

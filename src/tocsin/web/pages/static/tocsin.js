// Tocsin's only script: confirm destructive actions and copy a freshly created token.
// Everything works without it; it only adds a safety net and a convenience.
"use strict";

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  const question = form.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

function setupCopyButtons() {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const input = document.getElementById(button.dataset.copy);
    if (!input) continue;
    const status = document.getElementById("copy-status");
    button.hidden = false;
    button.addEventListener("click", async () => {
      input.select();
      let copied = false;
      try {
        await navigator.clipboard.writeText(input.value);
        copied = true;
      } catch (_err) {
        copied = document.execCommand && document.execCommand("copy");
      }
      if (status) {
        status.textContent = copied
          ? "Copied to the clipboard."
          : "Could not copy; the token is selected, copy it by hand.";
      }
      button.textContent = copied ? "Copied" : "Copy";
    });
  }
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", setupCopyButtons);
} else {
  setupCopyButtons();
}

// sshward console: progressive enhancement only. Every page works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Copy buttons: hidden until this script shows them.
  for (const button of document.querySelectorAll("button.copy[data-copy]")) {
    const source = document.getElementById(button.dataset.copy);
    if (!source || !navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(source.textContent.trim());
        button.textContent = "Copied";
      } catch (_) {
        button.textContent = "Select and copy";
      }
      setTimeout(() => { button.textContent = "Copy"; }, 2000);
    });
  }

  // Live sections: refreshed in place from their data-refresh URL every 5 seconds.
  for (const section of document.querySelectorAll("[data-refresh]")) {
    const refresh = async () => {
      try {
        const answer = await fetch(section.dataset.refresh, { credentials: "same-origin" });
        if (answer.ok) section.innerHTML = await answer.text();
      } catch (_) {
        // The next round tries again.
      }
    };
    setInterval(refresh, 5000);
  }
});

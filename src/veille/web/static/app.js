// Keyboard shortcuts: j/k next/previous story or result, o open, m seen or not, s starred or
// not, / search, ? help; the theme switch; reading buttons without a page reload. No inline
// script anywhere: the Content-Security-Policy allows only this file.
(function () {
  const items = () => Array.from(document.querySelectorAll("[data-item]"));
  let current = -1;
  function select(index) {
    const all = items();
    if (!all.length) return;
    current = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((el, i) => el.classList.toggle("current", i === current));
    all[current].scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (target && ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName)) return;
    if (event.metaKey || event.ctrlKey || event.altKey) return;
    if (event.key === "j") select(current + 1);
    else if (event.key === "k") select(current - 1);
    else if (event.key === "o" && current >= 0) {
      const link = items()[current].querySelector("a[href]");
      if (link) window.location.href = link.href;
    } else if (event.key === "m" || event.key === "s") {
      // The current story's button, or the page's own when it shows one story.
      let forms = current >= 0 ? items()[current].querySelectorAll("form[data-reading]") : [];
      if (!forms.length) {
        const all = document.querySelectorAll("form[data-reading]");
        if (all.length === 1) forms = all;
      }
      const which = event.key === "m" ? "seen" : "starred";
      const button = forms[0] && forms[0].querySelector(`[data-toggle=${which}]`);
      if (button) button.click();
    } else if (event.key === "/") {
      const box = document.querySelector("input[name=q]");
      event.preventDefault();
      if (box) box.focus(); else window.location.href = document.body.dataset.search;
    } else if (event.key === "?") {
      const help = document.getElementById("help");
      if (help) help.hidden = !help.hidden;
    } else return;
  });
  const toggle = document.getElementById("theme");
  const saved = localStorage.getItem("veille-theme");
  if (saved) document.documentElement.dataset.theme = saved;
  if (toggle) toggle.addEventListener("click", () => {
    const dark = document.documentElement.dataset.theme === "dark" ||
      (!document.documentElement.dataset.theme && matchMedia("(prefers-color-scheme: dark)").matches);
    const next = dark ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    localStorage.setItem("veille-theme", next);
  });
})();
// OPML import: the chosen file is sent as the request body with the CSRF token.
document.addEventListener("change", async (event) => {
  const input = event.target;
  if (!input.matches || !input.matches("input[data-opml]") || !input.files.length) return;
  const response = await fetch(input.dataset.opml, {
    method: "POST",
    headers: { "Content-Type": "text/x-opml", "X-CSRF-Token": input.dataset.csrf },
    body: await input.files[0].arrayBuffer(),
  });
  window.location.href = response.url;
});
// Seen and starred: sent in the background, the button and the story updated in place.
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!form.matches || !form.matches("form[data-reading]") || !event.submitter) return;
  event.preventDefault();
  const button = event.submitter;
  const body = new URLSearchParams(new FormData(form));
  body.set(button.name, button.value);
  const response = await fetch(form.action, {
    method: "POST",
    headers: { Accept: "application/json" },
    body,
  });
  if (!response.ok) return;
  const state = await response.json();
  for (const name of ["seen", "starred"]) {
    const toggle = form.querySelector(`[data-toggle=${name}]`);
    toggle.setAttribute("aria-pressed", state[name] ? "true" : "false");
    toggle.value = state[name] ? "0" : "1";
  }
  const card = form.closest(".story-card");
  if (card) card.classList.toggle("seen", state.seen);
});

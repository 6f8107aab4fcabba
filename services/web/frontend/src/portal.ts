// The customer's portal keeps an open page current without a reload: every few seconds,
// while the tab is visible, it fetches the same page and swaps in the parts that change
// (the request's progress — booked window, ETA — and its documents). The server renders
// every word, so the script never has to know what a status means. Dispatch and field
// events carry no customer id, so the front door's live stream cannot tell a customer's
// page that their job moved (ADR 0076); a poll of one page is cheap and leaks nothing.

const EVERY_MS = 10_000;

function editing(): boolean {
  const active = document.activeElement;
  return !!active && !!active.closest("form");
}

async function refresh(): Promise<void> {
  if (document.visibilityState !== "visible") return;
  const response = await fetch(location.href, { headers: { accept: "text/html" }, credentials: "same-origin" });
  if (!response.ok || response.redirected) return;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  const main = document.getElementById("main");
  const next = fresh.getElementById("main");
  if (!main || !next) return;
  const hasForm = !!main.querySelector("form");
  const newForms = next.querySelectorAll("form").length !== main.querySelectorAll("form").length;
  if (!editing() && (!hasForm || newForms)) {
    // Nothing typed into: take the whole page (a rating form may just have appeared).
    if (main.innerHTML !== next.innerHTML) main.innerHTML = next.innerHTML;
    return;
  }
  for (const part of Array.from(main.querySelectorAll<HTMLElement>("[data-live][id]"))) {
    const replacement = fresh.getElementById(part.id);
    if (replacement && replacement.innerHTML !== part.innerHTML) part.innerHTML = replacement.innerHTML;
  }
}

window.setInterval(() => {
  refresh().catch(() => undefined); // offline for a moment: the next tick tries again
}, EVERY_MS);
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") refresh().catch(() => undefined);
});

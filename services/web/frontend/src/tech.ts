// The technician's app (ADR 0075). It works from the phone's own copy of the jobs
// (IndexedDB) and never waits for the network: every action is recorded on the device with
// its own id and the device's time, and sent to fieldupdates' `POST /sync` whenever there is
// a signal — on opening, when the network returns, after each action, when the server says
// one of this technician's jobs changed (the live stream), and every minute.

import { h } from "./lib/dom";
import { onDevice } from "./tech/flow";
import { jobView, type Recorder } from "./tech/job-view";
import { listView, type ListEntry } from "./tech/list-view";
import { resizedPhoto, sha256Hex } from "./tech/media";
import { Store } from "./tech/store";
import { Offline, SignInNeeded, syncOnce } from "./tech/sync";

const root = document.getElementById("tech") as HTMLElement;
const view = document.getElementById("view") as HTMLElement;
const connection = document.getElementById("connection") as HTMLElement;
const message = document.getElementById("tech-message") as HTMLElement;
const sendNow = document.getElementById("sync-now") as HTMLButtonElement;

const { technicianId, accountId, today, tomorrow, timeZone } = root.dataset as Record<string, string>;
const EVERY_MINUTE_MS = 60_000;
// The live stream says an event happened; fieldupdates may apply it a moment later, so
// fetch once soon and once again shortly after.
const LIVE_FOLLOW_UP_MS = 2_500;

let store: Store;
let state: "online" | "offline" | "signed-out" = navigator.onLine ? "online" : "offline";
let lastSynced = "";

function say(text: string): void {
  message.textContent = text;
  message.hidden = !text;
}

// ---- what the phone shows -------------------------------------------------------------

function currentJobId(): string | null {
  const match = /^#job\/(.+)$/.exec(location.hash);
  return match ? decodeURIComponent(match[1]) : null;
}

/** Re-rendering replaces the view; keep the sections the technician had opened. */
function openDetails(): string[] {
  return Array.from(view.querySelectorAll<HTMLDetailsElement>("details[open] > summary"), (s) => s.textContent ?? "");
}

function reopen(titles: string[]): void {
  for (const summary of view.querySelectorAll<HTMLElement>("details > summary")) {
    if (titles.includes(summary.textContent ?? "")) (summary.parentElement as HTMLDetailsElement).open = true;
  }
}

/** Someone typing or signing: a background refresh must not wipe what they entered. A
 * form counts as started from its first keystroke or stroke until the view is redrawn by
 * the technician's own action (a save, a step, another job). */
let started = false;

function busy(): boolean {
  const active = document.activeElement;
  const typing = !!active && view.contains(active) && active.matches("input, textarea, select");
  return typing || started;
}

let shown = "";
const NEWS_WAITING = "News for this job has arrived: it shows once you save or leave this form.";

/** What the view is drawn from; a background refresh that changed none of it redraws nothing. */
async function drawnFrom(id: string | null): Promise<string> {
  const jobs = id ? [await store.job(id)] : await store.jobs();
  const queue = id ? await store.queueOf(id) : await store.queue();
  const files = id ? await store.filesOf(id) : await store.files();
  const refused = id ? await store.refusedOf(id) : [];
  return JSON.stringify([id, jobs, queue.map((a) => a.action_id), files.map((f) => f.attachment_id), refused, !lastSynced]);
}

/** Renders read IndexedDB between deciding what to draw and drawing it; a slow one (a
 * background refresh after a sync round) must not draw over a newer one, e.g. put the list
 * back over the job the technician just opened. Each render takes a number; only the
 * newest draws, and only if the address still says what it read. */
let renders = 0;

async function render(fromBackground = false): Promise<void> {
  const ticket = ++renders;
  const stale = (): boolean => ticket !== renders || currentJobId() !== id;
  const counts = await store.counts();
  root.dataset.pending = String(counts.actions + counts.files);
  showConnection(counts.actions + counts.files);
  const id = currentJobId();
  const basis = await drawnFrom(id);
  if (stale()) return;
  if (fromBackground && basis === shown) return;
  if (fromBackground && busy()) {
    say(NEWS_WAITING);
    return;
  }
  started = false;
  shown = basis;
  if (message.textContent === NEWS_WAITING) say("");
  const keep = openDetails();
  if (id) {
    const stored = await store.job(id);
    if (!stored) {
      view.replaceChildren(h("p", {}, "This job is not on this phone. "), h("a", { href: "#" }, "Back to my jobs"));
      return;
    }
    const queued = await store.queueOf(id);
    const files = await store.filesOf(id);
    const device = onDevice(stored.view, queued, files.length);
    const refused = await store.refusedOf(id);
    if (stale()) return;
    view.replaceChildren(jobView(stored, device, refused, recorderFor(id), timeZone));
  } else {
    const entries: ListEntry[] = [];
    for (const stored of await store.jobs()) {
      const queued = await store.queueOf(stored.work_order_id);
      const files = await store.filesOf(stored.work_order_id);
      const device = onDevice(stored.view, queued, files.length);
      entries.push({ stored, status: device.status, pending: device.pending, refused: (await store.refusedOf(stored.work_order_id)).length });
    }
    if (stale()) return;
    view.replaceChildren(listView(entries, today, tomorrow, timeZone, !lastSynced));
  }
  reopen(keep);
}

function showConnection(pending: number): void {
  root.dataset.connection = state;
  const waiting = pending ? `${pending} waiting to send` : "everything sent";
  if (state === "signed-out") {
    connection.replaceChildren(`Signed out — ${waiting}. `, h("a", { href: "/sign-in?next=/tech" }, "Sign in again"), " to send them.");
  } else if (state === "offline") {
    connection.textContent = `Offline — ${waiting}${pending ? "; they go when the signal returns" : ""}.`;
  } else {
    connection.textContent = `Online — ${waiting}.`;
  }
}

// ---- recording on the device ----------------------------------------------------------

function recorderFor(workOrderId: string): Recorder {
  return {
    async record(type, payload) {
      await store.enqueue({
        action_id: crypto.randomUUID(),
        work_order_id: workOrderId,
        type,
        device_time: new Date().toISOString(),
        device_seq: await store.nextSeq(),
        payload,
      });
      await render();
      void sync();
    },
    async keepFile(kind, blob, caption) {
      const bytes = kind === "photo" ? await resizedPhoto(blob) : blob;
      const attachmentId = crypto.randomUUID();
      await store.addFile({
        attachment_id: attachmentId,
        work_order_id: workOrderId,
        kind,
        content_type: bytes.type || (kind === "photo" ? "image/jpeg" : "image/png"),
        sha256: await sha256Hex(bytes),
        caption,
        device_time: new Date().toISOString(),
        blob: bytes,
      });
      await render();
      void sync();
      return attachmentId;
    },
  };
}

// ---- sending and fetching -------------------------------------------------------------

let running: Promise<void> | null = null;
let again = false;

/** One sync at a time; a request during one runs one more round after it. */
function sync(): Promise<void> {
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    do {
      again = false;
      await syncRound();
    } while (again);
  })().finally(() => {
    running = null;
  });
  return running;
}

async function syncRound(): Promise<void> {
  root.dataset.syncing = "yes";
  try {
    const outcome = await syncOnce(store, [today, tomorrow], timeZone, technicianId);
    state = "online";
    lastSynced = outcome.at;
    root.dataset.syncedAt = outcome.at;
    say("");
  } catch (error) {
    if (error instanceof SignInNeeded) state = "signed-out";
    else if (error instanceof Offline) state = "offline";
    else {
      state = "online";
      say(`Could not bring the jobs up to date: ${error instanceof Error ? error.message : String(error)}`);
    }
  } finally {
    delete root.dataset.syncing;
  }
  await render(true);
}

function listen(): void {
  const source = new EventSource("/live");
  let followUp: number | undefined;
  source.addEventListener("change", () => {
    void sync();
    window.clearTimeout(followUp);
    followUp = window.setTimeout(() => void sync(), LIVE_FOLLOW_UP_MS);
  });
  source.addEventListener("ready", () => {
    // (Re)connected: whatever changed while the stream was down was not heard; ask.
    if (root.dataset.live === "off") void sync();
    root.dataset.live = "on";
  });
  source.onerror = () => {
    root.dataset.live = "off";
  };
}

async function keepShellOffline(): Promise<void> {
  if (!("serviceWorker" in navigator)) return;
  try {
    await navigator.serviceWorker.register("/tech/sw.js", { scope: "/tech" });
    await navigator.serviceWorker.ready;
    // Ask the browser not to evict the queue under storage pressure (it may still say no).
    await navigator.storage?.persist?.().catch(() => false);
    root.dataset.offlineReady = "yes";
  } catch (error) {
    say(`This phone cannot keep the app for offline use: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Signing out with actions still on the phone: say so; on the way out, forget the kept page. */
function guardSignOut(): void {
  const out = document.querySelector<HTMLFormElement>('form[action="/sign-out"]');
  out?.addEventListener("submit", (event) => {
    event.preventDefault();
    const pending = Number(root.dataset.pending ?? "0");
    const warning = `${pending} action(s) have not reached the office yet. They stay on this phone until you sign in again. Sign out anyway?`;
    if (pending && !window.confirm(warning)) return;
    void (async () => {
      for (const name of await caches.keys()) if (name.startsWith("jobstream-tech-")) await caches.delete(name);
      out.submit();
    })();
  });
}

async function start(): Promise<void> {
  store = await Store.open(accountId);
  await render();
  window.addEventListener("hashchange", () => {
    void render().then(() => window.scrollTo(0, 0));
  });
  view.addEventListener("input", () => {
    started = true;
  });
  view.addEventListener("pointerdown", (event) => {
    if (event.target instanceof HTMLCanvasElement) started = true;
  });
  window.addEventListener("online", () => void sync());
  window.addEventListener("offline", () => {
    state = "offline";
    void render(true);
  });
  sendNow.addEventListener("click", () => void sync());
  window.setInterval(() => void sync(), EVERY_MINUTE_MS);
  guardSignOut();
  listen();
  await Promise.all([sync(), keepShellOffline()]);
}

void start();

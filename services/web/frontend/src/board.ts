// The dispatch board: one day of every technician, the waiting and failed lanes and the
// map, live from the event log; moves through dispatch's override API (ADR 0074).

import { ApiError, announce, api, describe } from "./lib/api";
import { DayMap } from "./board/map";
import { cardLabel, clockFormat, dropTarget, renderLane, renderTimeline } from "./board/timeline";
import { type Board, type Card, type Filters, allCards, areaOf } from "./board/types";

interface Placement {
  technician_id: string | null;
  window_start: string | null;
}

const root = document.getElementById("board") as HTMLElement;
const status = document.getElementById("board-status") as HTMLElement;
const timelineHost = document.getElementById("timeline") as HTMLElement;
const unscheduledHost = document.getElementById("lane-unscheduled") as HTMLElement;
const failedHost = document.getElementById("lane-failed") as HTMLElement;
const tiersHost = document.getElementById("tiers") as HTMLElement;
const dayInput = document.getElementById("day") as HTMLInputElement;
const skillSelect = document.getElementById("filter-skill") as HTMLSelectElement;
const areaSelect = document.getElementById("filter-area") as HTMLSelectElement;
const jobDialog = document.getElementById("job-dialog") as HTMLDialogElement;
const forceDialog = document.getElementById("force-dialog") as HTMLDialogElement;
const optimiseDialog = document.getElementById("optimise-dialog") as HTMLDialogElement;

const filters: Filters = { skill: "", area: "", priorities: new Set() };
let board: Board | null = null;
let cards = new Map<string, Card>();
let moved = new Set<string>();
const stats = { renders: 0, lastRenderAt: 0, lastChangeAt: 0, changes: 0 };
(window as unknown as { jobstreamBoard: typeof stats }).jobstreamBoard = stats;

const map = new DayMap(document.getElementById("map") as HTMLElement, root.dataset.tiles ?? "", root.dataset.attribution ?? "");

function day(): string {
  return dayInput.value || root.dataset.day || new Date().toISOString().slice(0, 10);
}

function placements(b: Board): Map<string, Placement> {
  const out = new Map<string, Placement>();
  for (const c of allCards(b).values()) out.set(c.work_order_id, { technician_id: c.technician_id, window_start: c.window_start });
  return out;
}

function fillSelect(select: HTMLSelectElement, values: string[], label: string): void {
  const current = select.value;
  select.replaceChildren(new Option(label, ""), ...values.map((v) => new Option(v.replaceAll("_", " "), v)));
  select.value = values.includes(current) ? current : "";
}

function render(): void {
  if (!board) return;
  cards = allCards(board);
  fillSelect(skillSelect, [...new Set(board.technicians.flatMap((t) => t.skills))].sort(), "Any skill");
  fillSelect(areaSelect, [...new Set([...cards.values()].map((c) => areaOf(c.site.address)).filter(Boolean))].sort(), "Any area");
  renderTimeline(timelineHost, board, cards, filters, moved);
  renderLane(unscheduledHost, "Unassigned", board.unscheduled, filters, false);
  renderLane(failedHost, "Scheduling failed", board.failed, filters, true);
  renderTiers();
  map.show(board, cards, filters, openJob);
  stats.renders += 1;
  stats.lastRenderAt = performance.now();
  root.dataset.renders = String(stats.renders);
}

function renderTiers(): void {
  if (!board) return;
  const clock = clockFormat(board.time_zone);
  const parts: HTMLElement[] = [];
  const heading = document.createElement("h2");
  heading.textContent = "By priority (P1 first, SLA risk first within each)";
  parts.push(heading);
  for (const tier of board.tiers) {
    if (!tier.jobs.length) continue;
    const h = document.createElement("h3");
    h.textContent = `${tier.priority} — ${tier.jobs.length}`;
    const list = document.createElement("ul");
    for (const c of tier.jobs) {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "link-button";
      b.dataset.workOrderId = c.work_order_id;
      b.textContent = cardLabel(c, clock);
      li.append(b);
      list.append(li);
    }
    parts.push(h, list);
  }
  tiersHost.replaceChildren(...parts);
}

async function refresh(): Promise<void> {
  try {
    const before = board ? placements(board) : null;
    board = await api<Board>("GET", `/api/dispatch/board?day=${day()}`);
    if (before) {
      const after = placements(board);
      moved = new Set([...after].filter(([id, p]) => {
        const was = before.get(id);
        return !was || was.technician_id !== p.technician_id || was.window_start !== p.window_start;
      }).map(([id]) => id));
    }
    render();
  } catch (error) {
    announce(status, `The board could not be loaded: ${error instanceof Error ? error.message : error}`, "alert");
  }
}

let pending: number | undefined;
function refreshSoon(): void {
  // Several events of one decision arrive together: one fetch for all of them.
  if (pending !== undefined) return;
  pending = window.setTimeout(() => {
    pending = undefined;
    void refresh();
  }, 120);
}

// --- moving a job --------------------------------------------------------------------

function technicianName(id: string | null): string {
  return board?.technicians.find((t) => t.technician_id === id)?.name ?? id ?? "nobody";
}

async function move(card: Card, technicianId: string, start: Date, force?: string): Promise<void> {
  const path = card.window_start ? "move" : "assign";
  const body: Record<string, unknown> = { technician_id: technicianId, start: start.toISOString() };
  if (force) Object.assign(body, { force: true, force_reason: force });
  const clock = clockFormat(board?.time_zone ?? "UTC");
  try {
    await api("POST", `/api/dispatch/jobs/${encodeURIComponent(card.work_order_id)}/${path}`, body);
    announce(status, `${card.priority} ${card.job_type} now with ${technicianName(technicianId)} at ${clock.format(start)}${force ? " (forced, reason recorded)" : ""}.`);
    await refresh();
  } catch (error) {
    render(); // the visit snaps back to where dispatch has it
    if (!(error instanceof ApiError)) {
      announce(status, `Not moved: ${String(error)}`, "alert");
      return;
    }
    const reason = describe(error.detail);
    const forcible = error.status === 409 && !/not qualified/i.test(reason);
    announce(status, `Not moved: ${reason}`, "alert");
    if (forcible && !force) askToForce(card, technicianId, start, reason);
  }
}

function askToForce(card: Card, technicianId: string, start: Date, reason: string): void {
  const text = forceDialog.querySelector<HTMLElement>("[data-reason]");
  if (text) text.textContent = reason;
  const form = forceDialog.querySelector("form") as HTMLFormElement;
  const input = form.elements.namedItem("force_reason") as HTMLTextAreaElement;
  const error = forceDialog.querySelector<HTMLElement>("[data-error]");
  input.value = "";
  if (error) error.textContent = "";
  form.onsubmit = (event) => {
    event.preventDefault();
    if (!input.value.trim()) {
      if (error) error.textContent = "Say why this breach is acceptable; it is recorded with the decision.";
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    forceDialog.close();
    void move(card, technicianId, start, input.value.trim());
  };
  forceDialog.showModal();
}

function localInput(iso: string | null, zone: string): string {
  if (!iso) return "";
  const parts = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone }).format(new Date(iso));
  return parts;
}

/** A local day and "HH:MM" in the business's zone → the instant (by searching the offset). */
function instant(dayText: string, hhmm: string, zone: string): Date {
  const guess = new Date(`${dayText}T${hhmm}:00Z`);
  const shown = localInput(guess.toISOString(), zone);
  const [h, m] = shown.split(":").map(Number);
  const [wantH, wantM] = hhmm.split(":").map(Number);
  const delta = (h * 60 + m - (wantH * 60 + wantM)) * 60_000;
  const wrapped = ((delta + 12 * 3_600_000) % (24 * 3_600_000) + 24 * 3_600_000) % (24 * 3_600_000) - 12 * 3_600_000;
  return new Date(guess.getTime() - wrapped);
}

function openJob(id: string): void {
  const card = cards.get(id);
  if (!card || !board) return;
  const zone = board.time_zone;
  const clock = clockFormat(zone);
  const title = jobDialog.querySelector<HTMLElement>("[data-title]");
  const facts = jobDialog.querySelector<HTMLElement>("[data-facts]");
  if (title) title.textContent = `${card.priority} ${card.job_type}`;
  if (facts) {
    facts.replaceChildren();
    const rows: [string, string][] = [
      ["Customer", card.customer_name ?? card.customer_id],
      ["Site", card.site.address],
      ["What", card.description],
      ["Skills", card.required_skills.join(", ").replaceAll("_", " ") || "—"],
      ["Technician", technicianName(card.technician_id)],
      ["Window", card.window_start ? `${clock.format(new Date(card.window_start))}–${clock.format(new Date(card.window_end ?? card.window_start))}` : "not scheduled"],
      ["Respond by", clock.format(new Date(card.respond_by))],
      ["Resolve by", clock.format(new Date(card.resolve_by))],
      ["SLA", card.sla_risk.replace("_", " ")],
    ];
    if (card.failure_detail || card.failure_reason) rows.push(["Why not placed", card.failure_detail || card.failure_reason || ""]);
    for (const [k, v] of rows) {
      const dt = document.createElement("dt");
      dt.textContent = k;
      const dd = document.createElement("dd");
      dd.textContent = v;
      facts.append(dt, dd);
    }
  }
  const link = jobDialog.querySelector<HTMLAnchorElement>("[data-link]");
  if (link) link.href = `/office/work-orders/${encodeURIComponent(card.work_order_id)}`;
  const form = jobDialog.querySelector("form") as HTMLFormElement;
  const select = form.elements.namedItem("technician_id") as HTMLSelectElement;
  select.replaceChildren(...board.technicians.map((t) => new Option(t.name, t.technician_id)));
  select.value = card.technician_id ?? board.technicians[0]?.technician_id ?? "";
  const time = form.elements.namedItem("start") as HTMLInputElement;
  time.value = localInput(card.window_start, zone) || "09:00";
  const error = jobDialog.querySelector<HTMLElement>("[data-error]");
  if (error) error.textContent = "";
  form.onsubmit = (event) => {
    event.preventDefault();
    if (!/^\d{2}:\d{2}$/.test(time.value)) {
      if (error) error.textContent = "Give a start time as HH:MM.";
      time.focus();
      return;
    }
    jobDialog.close();
    // Unchanged time: keep the visit's exact start (its seconds may be what keeps it inside
    // the customer's window).
    const unchanged = card.window_start && time.value === localInput(card.window_start, zone);
    void move(card, select.value, unchanged ? new Date(card.window_start as string) : instant(day(), time.value, zone));
  };
  jobDialog.showModal();
}

// --- drag and drop (pointer events; the dialog does the same from the keyboard) -------

let drag: { id: string; source: HTMLElement; x: number; y: number; offset: number; ghost?: HTMLElement } | null = null;
let suppressClick = false;

document.addEventListener("pointerdown", (event) => {
  const source = (event.target as HTMLElement).closest<HTMLElement>(".visit, .card");
  if (!source || event.button !== 0) return;
  const rect = source.getBoundingClientRect();
  drag = { id: source.dataset.workOrderId ?? "", source, x: event.clientX, y: event.clientY, offset: source.classList.contains("visit") ? event.clientX - rect.left : 0 };
});

document.addEventListener("pointermove", (event) => {
  if (!drag) return;
  if (!drag.ghost) {
    if (Math.hypot(event.clientX - drag.x, event.clientY - drag.y) < 6) return;
    const ghost = drag.source.cloneNode(true) as HTMLElement;
    ghost.className = `drag-ghost ${[...drag.source.classList].filter((c) => c.startsWith("p-")).join(" ")} visit`;
    ghost.removeAttribute("data-work-order-id");
    ghost.setAttribute("aria-hidden", "true");
    document.body.append(ghost);
    drag.ghost = ghost;
    drag.source.classList.add("dragging");
  }
  drag.ghost.style.left = `${event.clientX - drag.offset}px`;
  drag.ghost.style.top = `${event.clientY - 10}px`;
  for (const row of document.querySelectorAll(".tl-row.drop-target")) row.classList.remove("drop-target");
  drag.ghost.hidden = true;
  document.elementFromPoint(event.clientX, event.clientY)?.closest(".tl-row")?.classList.add("drop-target");
  drag.ghost.hidden = false;
});

document.addEventListener("pointerup", (event) => {
  const current = drag;
  drag = null;
  if (!current?.ghost) return;
  // The click that may follow this pointerup is the drop, not a request to open the job;
  // when none follows (the drop landed elsewhere), the next real click must not be eaten.
  suppressClick = true;
  window.setTimeout(() => {
    suppressClick = false;
  }, 0);
  current.ghost.remove();
  current.source.classList.remove("dragging");
  for (const row of document.querySelectorAll(".tl-row.drop-target")) row.classList.remove("drop-target");
  const target = dropTarget(timelineHost, event.clientX - current.offset, event.clientY);
  const card = cards.get(current.id);
  if (!target || !card) {
    announce(status, "Dropped outside the technicians' rows: nothing changed.", "warning");
    return;
  }
  void move(card, target.technicianId, target.start);
});

document.addEventListener("click", (event) => {
  const source = (event.target as HTMLElement).closest<HTMLElement>(".visit, .card, .link-button");
  if (!source) return;
  if (suppressClick) {
    suppressClick = false;
    return;
  }
  openJob(source.dataset.workOrderId ?? "");
});

// --- toolbar ---------------------------------------------------------------------------

function shiftDay(days: number): void {
  const d = new Date(`${day()}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  dayInput.value = d.toISOString().slice(0, 10);
  history.replaceState(null, "", `?day=${dayInput.value}`);
  moved = new Set();
  board = null;
  void refresh();
}

document.getElementById("day-prev")?.addEventListener("click", () => shiftDay(-1));
document.getElementById("day-next")?.addEventListener("click", () => shiftDay(1));
document.getElementById("day-today")?.addEventListener("click", () => {
  dayInput.value = root.dataset.today ?? "";
  shiftDay(0);
});
dayInput.addEventListener("change", () => shiftDay(0));
skillSelect.addEventListener("change", () => {
  filters.skill = skillSelect.value;
  render();
});
areaSelect.addEventListener("change", () => {
  filters.area = areaSelect.value;
  render();
});
for (const box of document.querySelectorAll<HTMLInputElement>("input[name=priority]")) {
  box.addEventListener("change", () => {
    filters.priorities = new Set([...document.querySelectorAll<HTMLInputElement>("input[name=priority]:checked")].map((b) => b.value));
    render();
  });
}

document.getElementById("optimise")?.addEventListener("click", async (event) => {
  const button = event.currentTarget as HTMLButtonElement;
  button.disabled = true;
  announce(status, "Optimising the day…");
  const before = board ? placements(board) : new Map<string, Placement>();
  try {
    const result = await api<{ moved: number; placed: number; note: string }>("POST", "/api/dispatch/plan/optimise", { day: day() });
    await refresh();
    const after = board ? placements(board) : new Map<string, Placement>();
    const clock = clockFormat(board?.time_zone ?? "UTC");
    const list = optimiseDialog.querySelector("[data-moves]") as HTMLElement;
    list.replaceChildren();
    for (const [id, p] of after) {
      const was = before.get(id);
      if (was && was.technician_id === p.technician_id && was.window_start === p.window_start) continue;
      const c = cards.get(id);
      const li = document.createElement("li");
      const from = was?.window_start ? `${technicianName(was.technician_id)} ${clock.format(new Date(was.window_start))}` : "unassigned";
      const to = p.window_start ? `${technicianName(p.technician_id)} ${clock.format(new Date(p.window_start))}` : "unassigned";
      li.textContent = `${c?.priority ?? ""} ${c?.job_type ?? id}: ${from} → ${to}`;
      list.append(li);
    }
    const summary = optimiseDialog.querySelector("[data-summary]") as HTMLElement;
    summary.textContent = result.moved || result.placed
      ? `${result.moved} visit(s) moved, ${result.placed} waiting job(s) placed.`
      : `The plan stays as it is${result.note ? `: ${result.note}` : ": no better plan was found"}.`;
    if (!list.children.length) list.append(Object.assign(document.createElement("li"), { textContent: "Nothing moved." }));
    announce(status, summary.textContent);
    optimiseDialog.showModal();
  } catch (error) {
    announce(status, `Not optimised: ${error instanceof Error ? error.message : error}`, "alert");
  } finally {
    button.disabled = false;
  }
});
optimiseDialog.querySelector("button")?.addEventListener("click", () => optimiseDialog.close());
// Close buttons are plain buttons, so that Enter in a field submits the form's action.
for (const button of document.querySelectorAll<HTMLButtonElement>("dialog [data-close]")) {
  button.addEventListener("click", () => button.closest("dialog")?.close());
}

// --- live ------------------------------------------------------------------------------

function listen(): void {
  const source = new EventSource("/live");
  source.addEventListener("ready", () => {
    root.dataset.live = "on";
  });
  source.addEventListener("change", () => {
    stats.changes += 1;
    stats.lastChangeAt = performance.now();
    refreshSoon();
  });
  source.onerror = () => {
    root.dataset.live = "off";
    // EventSource reconnects by itself; fetch afresh once it does, to miss nothing.
    source.addEventListener("ready", () => refreshSoon(), { once: true });
  };
}

window.addEventListener("resize", () => map.resize());
void refresh().then(listen);

// One day as rows of technicians: working time, overtime, absences, travel and visits,
// positioned by time. Visits and cards are buttons (keyboard first); dragging is extra.

import { type Board, type Card, type Filters, type TechnicianRow, cardVisible, technicianVisible } from "./types";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export interface Range {
  start: number;
  end: number;
}

export function ms(iso: string): number {
  return new Date(iso).getTime();
}

/** The hours the day's rows span: every working period and visit, an hour either side;
 * 07:00–19:00 around noon UTC of the day when there is nothing to show. */
export function rangeOf(board: Board): Range {
  let start = Infinity;
  let end = -Infinity;
  for (const t of board.technicians) {
    for (const w of t.working) {
      start = Math.min(start, ms(w.start));
      end = Math.max(end, ms(w.overtime_end));
    }
    for (const item of t.timeline) {
      start = Math.min(start, ms(item.start));
      end = Math.max(end, ms(item.end));
    }
  }
  if (!Number.isFinite(start)) {
    const noon = Date.parse(`${board.day}T12:00:00Z`);
    return { start: noon - 5 * HOUR, end: noon + 7 * HOUR };
  }
  return { start: Math.floor(start / HOUR) * HOUR - HOUR, end: Math.ceil(end / HOUR) * HOUR + HOUR };
}

export function clockFormat(zone: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", timeZone: zone });
}

function place(el: HTMLElement, range: Range, from: number, to: number): void {
  const span = range.end - range.start;
  const left = Math.max(0, (from - range.start) / span);
  const right = Math.min(1, (to - range.start) / span);
  el.style.left = `${(left * 100).toFixed(3)}%`;
  el.style.width = `${(Math.max(right - left, 0) * 100).toFixed(3)}%`;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = "",
  text = "",
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

export function cardLabel(card: Card, clock: Intl.DateTimeFormat): string {
  const when = card.window_start ? `${clock.format(new Date(card.window_start))}–${clock.format(new Date(card.window_end ?? card.window_start))}` : "not scheduled";
  const sla = card.sla_risk === "ok" ? "SLA on time" : card.sla_risk === "at_risk" ? "SLA at risk" : "SLA breached";
  return `${card.priority} ${card.job_type} at ${card.site.address}, ${when}, ${sla}`;
}

function overtime(t: TechnicianRow, end: number): boolean {
  return t.working.some((w) => end > ms(w.end) && end <= ms(w.overtime_end) + 1) ||
    (t.working.length > 0 && t.working.every((w) => end > ms(w.overtime_end)));
}

export function renderTimeline(
  host: HTMLElement,
  board: Board,
  cards: Map<string, Card>,
  filters: Filters,
  moved: Set<string>,
): void {
  const range = rangeOf(board);
  const clock = clockFormat(board.time_zone);
  const grid = el("div", "tl-grid");
  grid.setAttribute("role", "list");
  grid.setAttribute("aria-label", `Technicians' day, ${board.day}`);
  host.dataset.rangeStart = String(range.start);
  host.dataset.rangeEnd = String(range.end);

  const head = el("div", "tl-head");
  head.setAttribute("aria-hidden", "true");
  head.append(el("div", "tl-who", "Technician"));
  const hours = el("div", "tl-hours");
  const step = range.end - range.start > 14 * HOUR ? 2 * HOUR : HOUR;
  for (let t = range.start; t <= range.end; t += step) {
    const tick = el("span", "tl-hour", clock.format(new Date(t)));
    tick.style.left = `${((t - range.start) / (range.end - range.start)) * 100}%`;
    hours.append(tick);
  }
  head.append(hours);
  grid.append(head);

  const now = Date.now();
  for (const t of board.technicians) {
    if (!technicianVisible(t, filters)) continue;
    const row = el("div", "tl-row");
    row.setAttribute("role", "listitem");
    row.dataset.technicianId = t.technician_id;
    const who = el("div", "tl-who");
    who.append(el("strong", "", t.name));
    const visits = t.timeline.filter((i) => i.kind === "job").length;
    who.append(el("span", "state", `${t.status.replace("_", " ")} · ${visits} visit${visits === 1 ? "" : "s"}`));
    row.append(who);

    const lane = el("div", "tl-lane");
    lane.setAttribute("role", "group");
    lane.setAttribute("aria-label", `${t.name}'s visits`);
    for (const w of t.working) {
      const work = el("div", "tl-working");
      place(work, range, ms(w.start), ms(w.end));
      lane.append(work);
      if (ms(w.overtime_end) > ms(w.end)) {
        const extra = el("div", "tl-overtime");
        extra.title = "overtime";
        place(extra, range, ms(w.end), ms(w.overtime_end));
        lane.append(extra);
      }
    }
    for (const a of t.absences) {
      const away = el("div", "tl-absence", a.reason);
      place(away, range, ms(a.start), ms(a.end));
      lane.append(away);
    }
    // Visits that overlap (work running late against the plan) share the row in tiers.
    const tiers: number[] = [];
    const tierOf = new Map<string, number>();
    for (const item of t.timeline.filter((i) => i.kind === "job").sort((a, b) => ms(a.start) - ms(b.start))) {
      let tier = tiers.findIndex((end) => end <= ms(item.start));
      if (tier < 0) tier = tiers.push(0) - 1;
      tiers[tier] = ms(item.end);
      tierOf.set(item.work_order_id ?? "", tier);
    }
    const depth = Math.max(tiers.length, 1);
    for (const item of t.timeline) {
      if (item.kind === "travel") {
        const travel = el("div", "tl-travel");
        travel.title = "travel";
        place(travel, range, ms(item.start), ms(item.end));
        lane.append(travel);
        continue;
      }
      const card = cards.get(item.work_order_id ?? "");
      if (!card || !cardVisible(card, filters)) continue;
      const visit = el("button", `visit p-${card.priority} sla-${card.sla_risk}`);
      visit.type = "button";
      visit.dataset.workOrderId = card.work_order_id;
      const late = overtime(t, ms(item.end));
      if (late) visit.classList.add("overtime");
      if (moved.has(card.work_order_id)) visit.classList.add("moved");
      const mark = card.sla_risk === "breached" ? "! " : card.sla_risk === "at_risk" ? "⚠ " : "";
      visit.textContent = `${mark}${card.priority} ${card.job_type}`;
      visit.setAttribute("aria-label", `${cardLabel(card, clock)}${late ? ", in overtime" : ""}. Press Enter to move.`);
      place(visit, range, ms(item.start), ms(item.end));
      if (depth > 1) {
        const tier = tierOf.get(card.work_order_id) ?? 0;
        visit.style.top = `calc(${(tier * 100) / depth}% + 2px)`;
        visit.style.height = `calc(${100 / depth}% - 4px)`;
      }
      lane.append(visit);
    }
    if (now > range.start && now < range.end) {
      const line = el("div", "tl-now");
      line.setAttribute("aria-hidden", "true");
      place(line, range, now, now);
      line.style.width = "2px";
      lane.append(line);
    }
    row.append(lane);
    grid.append(row);
  }
  host.replaceChildren(grid);
}

export function renderLane(host: HTMLElement, title: string, cards: Card[], filters: Filters, reasons: boolean): void {
  const heading = el("h2", "", `${title} (${cards.length})`);
  const list = el("ul");
  for (const card of cards) {
    if (!cardVisible(card, filters)) continue;
    const item = el("li");
    const button = el("button", `card p-${card.priority}`);
    button.type = "button";
    button.dataset.workOrderId = card.work_order_id;
    const top = el("span", "", `${card.priority} · ${card.job_type} · ${card.customer_name ?? card.customer_id}`);
    button.append(top, el("br"), el("span", "", card.site.address));
    if (reasons && (card.failure_reason || card.failure_detail)) {
      button.append(el("span", "reason", card.failure_detail || card.failure_reason || ""));
    }
    button.append(el("span", `visually-hidden`, `. SLA ${card.sla_risk.replace("_", " ")}. Press Enter to assign.`));
    item.append(button);
    list.append(item);
  }
  if (!list.children.length) list.append(el("li", "muted", "Nothing here."));
  host.replaceChildren(heading, list);
}

/** Where a drop at (x, y) lands: a technician's row and a time snapped to 5 minutes. */
export function dropTarget(host: HTMLElement, x: number, y: number): { technicianId: string; start: Date } | null {
  const under = document.elementFromPoint(x, y);
  const row = under?.closest<HTMLElement>(".tl-row");
  const lane = row?.querySelector<HTMLElement>(".tl-lane");
  if (!row || !lane || !row.dataset.technicianId) return null;
  const rect = lane.getBoundingClientRect();
  const start = Number(host.dataset.rangeStart);
  const end = Number(host.dataset.rangeEnd);
  const fraction = Math.min(Math.max((x - rect.left) / rect.width, 0), 1);
  const at = start + fraction * (end - start);
  const snapped = Math.round(at / (5 * MINUTE)) * 5 * MINUTE;
  return { technicianId: row.dataset.technicianId, start: new Date(snapped) };
}

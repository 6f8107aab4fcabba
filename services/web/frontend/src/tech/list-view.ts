// The technician's list: today's jobs, then tomorrow's, in the order of their windows, each
// a big card that opens the job. A card says what the phone knows that the server does not
// yet (actions waiting to send) and whether the office took the job away.

import { h } from "../lib/dom";
import { STATUS_WORDS } from "./flow";
import { localTime as time, words } from "./job-view";
import type { StoredJob } from "./store";

export interface ListEntry {
  stored: StoredJob;
  status: string;
  pending: number;
  refused: number;
}

function card(entry: ListEntry, zone: string): HTMLElement {
  const job = entry.stored.view;
  const d = job.job_pack?.details;
  const badges = [
    entry.stored.taken_away ? h("span", { class: "badge badge-away" }, "No longer yours") : null,
    entry.pending ? h("span", { class: "badge badge-pending" }, `${entry.pending} waiting to send`) : null,
    entry.refused ? h("span", { class: "badge badge-refused" }, `${entry.refused} not accepted`) : null,
  ];
  return h(
    "li",
    {},
    h(
      "a",
      { class: "job-card", href: `#job/${encodeURIComponent(job.work_order_id)}`, "data-work-order-id": job.work_order_id, "data-status": entry.status },
      h("span", { class: "job-card-time" }, `${time(job.window_start, zone)}–${time(job.window_end, zone)}`),
      h("span", { class: "job-card-title" }, d ? `${d.priority} ${words(d.job_type)}` : job.work_order_id),
      d ? h("span", { class: "job-card-where" }, d.customer_name ?? d.customer_id, " · ", d.site.address) : null,
      h("span", { class: `status status-${entry.status}` }, STATUS_WORDS[entry.status] ?? words(entry.status)),
      ...badges,
    ),
  );
}

function group(title: string, entries: ListEntry[], zone: string, empty: string): HTMLElement {
  const byWindow = [...entries].sort((a, b) => (a.stored.view.window_start ?? "").localeCompare(b.stored.view.window_start ?? ""));
  return h(
    "section",
    { class: "tech-section", "aria-label": title },
    h("h2", {}, title),
    byWindow.length ? h("ul", { class: "job-cards" }, ...byWindow.map((e) => card(e, zone))) : h("p", { class: "hint" }, empty),
  );
}

export function listView(entries: ListEntry[], today: string, tomorrow: string, zone: string, neverSynced: boolean): HTMLElement {
  if (neverSynced && entries.length === 0) {
    return h("div", {}, h("h1", {}, "My jobs"), h("p", {}, "Your jobs have not reached this phone yet. They come as soon as it has a signal."));
  }
  const later = entries.filter((e) => e.stored.day > tomorrow);
  return h(
    "div",
    {},
    h("h1", {}, "My jobs"),
    group("Today", entries.filter((e) => e.stored.day <= today), zone, "Nothing planned for you today."),
    group("Tomorrow", entries.filter((e) => e.stored.day === tomorrow), zone, "Nothing planned for tomorrow yet."),
    later.length ? group("Later", later, zone, "") : null,
  );
}

// Sending what the device recorded and fetching what the server knows. Files go first
// (an answer or a signature names its upload), then the queued actions through
// fieldupdates' `POST /sync`, which applies each exactly once: a batch sent twice, or by two
// tabs at once, changes nothing more. A Web Lock keeps two tabs from sending together
// anyway. Network failures leave everything queued for the next try.

import { csrfToken } from "../lib/api";
import type { Store, StoredJob } from "./store";
import type { FieldJob, QueuedAction, RefusedAction } from "./types";

const BATCH = 100; // fieldupdates accepts up to max_sync_actions (200 by default) per batch

export class SignInNeeded extends Error {}
export class Offline extends Error {}

async function call(method: string, path: string, init: RequestInit = {}): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(path, {
      ...init,
      method,
      credentials: "same-origin",
      headers: { accept: "application/json", ...(method === "GET" ? {} : { "x-csrf-token": csrfToken() }), ...(init.headers ?? {}) },
    });
  } catch {
    throw new Offline("no network");
  }
  if (response.status === 401) throw new SignInNeeded("sign in again");
  if (response.status >= 500) throw new Offline(`the server answered ${response.status}`);
  return response;
}

function reasonOf(body: unknown, status: number): string {
  if (body && typeof body === "object" && "detail" in body) {
    const detail = (body as { detail: unknown }).detail;
    if (typeof detail === "string") return detail;
    if (detail && typeof detail === "object" && "detail" in detail) return String((detail as { detail: unknown }).detail);
    return JSON.stringify(detail);
  }
  return `refused (${status})`;
}

/** Upload the waiting photos and signatures; refused ones become refusals with a reason. */
async function sendFiles(store: Store): Promise<number> {
  let sent = 0;
  for (const file of await store.files()) {
    const query = new URLSearchParams({ kind: file.kind, caption: file.caption });
    const response = await call("PUT", `/api/fieldupdates/jobs/${encodeURIComponent(file.work_order_id)}/attachments/${encodeURIComponent(file.attachment_id)}?${query}`, {
      body: file.blob,
      headers: { "content-type": file.content_type, "x-content-sha256": file.sha256, "x-device-time": file.device_time },
    });
    if (response.ok) {
      await store.dropFile(file.attachment_id);
      sent += 1;
    } else {
      await store.refuse([
        { action_id: file.attachment_id, work_order_id: file.work_order_id, type: "add_attachment", reason: reasonOf(await response.json().catch(() => null), response.status), refused_at: new Date().toISOString() },
      ]);
    }
  }
  return sent;
}

interface SyncResult {
  action_id: string;
  work_order_id: string;
  status: "applied" | "duplicate" | "rejected";
  reason: string | null;
}

/** Post the queue in device order, a batch at a time. */
async function sendActions(store: Store): Promise<number> {
  let sent = 0;
  const queue = await store.queue();
  for (let i = 0; i < queue.length; i += BATCH) {
    const batch: QueuedAction[] = queue.slice(i, i + BATCH);
    const response = await call("POST", "/api/fieldupdates/sync", {
      body: JSON.stringify({ actions: batch }),
      headers: { "content-type": "application/json" },
    });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      // The whole batch was refused as a batch (malformed): say so on every action in it.
      const reason = reasonOf(body, response.status);
      await store.refuse(batch.map((a) => ({ action_id: a.action_id, work_order_id: a.work_order_id, type: a.type, reason, refused_at: new Date().toISOString() })));
      continue;
    }
    const results = (body as { results: SyncResult[] }).results;
    const done = results.filter((r) => r.status !== "rejected").map((r) => r.action_id);
    const byId = new Map(batch.map((a) => [a.action_id, a]));
    const refused: RefusedAction[] = results
      .filter((r) => r.status === "rejected")
      .map((r) => ({ action_id: r.action_id, work_order_id: r.work_order_id, type: byId.get(r.action_id)?.type ?? "", reason: r.reason ?? "refused", refused_at: new Date().toISOString() }));
    await store.dequeue(done);
    if (refused.length) await store.refuse(refused);
    sent += done.length;
  }
  return sent;
}

/** Fetch the jobs of today and tomorrow, whole, and note jobs the server took away. */
async function fetchJobs(store: Store, days: string[], zone: string, technicianId: string): Promise<void> {
  const seen = new Set<string>();
  for (const day of days) {
    const response = await call("GET", `/api/fieldupdates/jobs?${new URLSearchParams({ day, tz: zone })}`);
    if (!response.ok) continue;
    for (const summary of (await response.json()) as { work_order_id: string }[]) {
      if (seen.has(summary.work_order_id)) continue;
      seen.add(summary.work_order_id);
      const view = await call("GET", `/api/fieldupdates/jobs/${encodeURIComponent(summary.work_order_id)}`);
      if (view.ok) {
        const job = (await view.json()) as FieldJob;
        await store.putJob({ work_order_id: job.work_order_id, day, view: job, fetched_at: new Date().toISOString() });
      }
    }
  }
  // A job on the device that is no longer in the lists: ask about it. Ours no more (403),
  // it stays on the device, marked, with whatever was recorded on it.
  for (const stored of await store.jobs()) {
    if (seen.has(stored.work_order_id)) continue;
    const response = await call("GET", `/api/fieldupdates/jobs/${encodeURIComponent(stored.work_order_id)}`);
    if (response.status === 403 || response.status === 404) {
      await markTakenAway(store, stored, "This job is no longer yours: the office reassigned or withdrew it.");
    } else if (response.ok) {
      const job = (await response.json()) as FieldJob;
      if (job.cancelled || job.technician_id !== technicianId) {
        const why = job.cancelled ? "The office cancelled this work order." : "This job is no longer yours: the office reassigned or withdrew it.";
        await markTakenAway(store, { ...stored, view: job }, why);
        continue;
      }
      const closedAndSent = ["completed", "incomplete"].includes(job.status) && (await store.queueOf(job.work_order_id)).length === 0;
      if (closedAndSent && stored.day < days[0]) await store.deleteJob(job.work_order_id);
      else await store.putJob({ ...stored, view: job, fetched_at: new Date().toISOString() });
    }
  }
}

async function markTakenAway(store: Store, stored: StoredJob, why: string): Promise<void> {
  if (!stored.taken_away) await store.putJob({ ...stored, taken_away: why });
}

export interface SyncOutcome {
  sent: number;
  at: string;
}

/** One round: files, actions, then the server's view of the day. */
export async function syncOnce(store: Store, days: string[], zone: string, technicianId: string): Promise<SyncOutcome> {
  const run = async (): Promise<SyncOutcome> => {
    const files = await sendFiles(store);
    const actions = await sendActions(store);
    await fetchJobs(store, days, zone, technicianId);
    return { sent: files + actions, at: new Date().toISOString() };
  };
  if ("locks" in navigator) return navigator.locks.request("jobstream-tech-sync", run);
  return run();
}

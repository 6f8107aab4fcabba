// The job as the technician sees it on the device: the server's last word with the queued
// actions laid over it, so the buttons offer only what the status flow allows next and the
// job sheet blocks completion here as it would on the server. The table mirrors
// fieldupdates' TRANSITIONS (domain/decide.py); the server stays the judge, and what it
// refuses comes back with its reason.

import type { ChecklistAnswer, ChecklistItem, FieldJob, QueuedAction } from "./types";

export const TRANSITIONS: Record<string, Record<string, string>> = {
  dispatched: { acknowledge: "acknowledged" },
  acknowledged: { start_travel: "en_route" },
  en_route: { arrive: "on_site", revise_eta: "en_route", could_not_complete: "incomplete" },
  on_site: { start_work: "in_progress", could_not_complete: "incomplete" },
  in_progress: { put_on_hold: "on_hold", complete: "completed", could_not_complete: "incomplete" },
  on_hold: { resume: "in_progress", could_not_complete: "incomplete" },
  completed: {},
  incomplete: {},
};

export const CLOSED = new Set(["completed", "incomplete"]);

export const STATUS_WORDS: Record<string, string> = {
  dispatched: "New",
  acknowledged: "Acknowledged",
  en_route: "On the way",
  on_site: "On site",
  in_progress: "Working",
  on_hold: "On hold",
  completed: "Completed",
  incomplete: "Could not complete",
};

export const ACTION_WORDS: Record<string, string> = {
  acknowledge: "Acknowledge",
  start_travel: "Set off",
  revise_eta: "New ETA",
  arrive: "Arrived",
  start_work: "Start work",
  put_on_hold: "Put on hold",
  resume: "Resume",
  complete: "Complete the job",
  could_not_complete: "Could not complete",
  log_time: "Time",
  use_material: "Material",
  request_parts: "Parts request",
  add_note: "Note",
  answer_checklist_item: "Job sheet answer",
  capture_signature: "Signature",
  add_attachment: "Photo",
};

export interface DeviceView {
  status: string;
  next: string[];
  answers: Record<string, ChecklistAnswer>;
  missing: ChecklistItem[];
  pending: number;
  labourMinutes: number;
  travelMinutes: number;
  materials: { description: string; quantity: number; unit: string; pending: boolean }[];
  notes: { text: string; pending: boolean }[];
  signed: string[];
}

/** The job with the device's queued actions applied in device order. */
export function onDevice(job: FieldJob, queued: QueuedAction[], photosWaiting: number): DeviceView {
  let status = job.status;
  const answers: Record<string, ChecklistAnswer> = { ...job.checklist.answers };
  let labour = job.time.labour_minutes;
  let travel = job.time.travel_minutes;
  const materials = job.materials.map((m) => ({ description: m.description, quantity: m.quantity_milli / 1000, unit: m.unit, pending: false }));
  const notes = job.notes.map((n) => ({ text: n.text, pending: false }));
  const signed = job.signatures.map((s) => s.signer_name);
  for (const action of queued) {
    const p = action.payload;
    const to = TRANSITIONS[status]?.[action.type];
    if (to) status = to;
    if (action.type === "answer_checklist_item") answers[String(p.item_id)] = p.answer as ChecklistAnswer;
    if (action.type === "log_time") {
      if (p.kind === "labour") labour += Number(p.minutes);
      else travel += Number(p.minutes);
    }
    if (action.type === "use_material") {
      materials.push({ description: String(p.description), quantity: Number(p.quantity_milli) / 1000, unit: String(p.unit), pending: true });
    }
    if (action.type === "add_note") notes.push({ text: String(p.text), pending: true });
    if (action.type === "capture_signature") signed.push(String(p.signer_name));
  }
  const items = job.job_pack?.details.checklist?.items ?? [];
  const missing = items.filter((item) => item.required && !answers[item.item_id]);
  const takenAway = job.cancelled || job.technician_id === null;
  const next = takenAway ? [] : Object.keys(TRANSITIONS[status] ?? {});
  return {
    status,
    next,
    answers,
    missing,
    pending: queued.length + photosWaiting,
    labourMinutes: labour,
    travelMinutes: travel,
    materials,
    notes,
    signed,
  };
}

/** Why the device will not offer completion yet, in words (nothing when it may). */
export function completionBlocked(view: DeviceView): string {
  if (view.missing.length === 0) return "";
  return `Answer the job sheet first: ${view.missing.map((i) => i.label).join(", ")}.`;
}

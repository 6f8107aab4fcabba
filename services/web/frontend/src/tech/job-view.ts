// One job on the phone: the job pack first (what to know before arriving), then the next
// step of the status flow as big buttons, then the records — job sheet, time, materials,
// parts, notes, photos, signature. Every form records an action on the device; nothing
// here waits for the network.

import { field, fieldError, h, uid } from "../lib/dom";
import { ACTION_WORDS, CLOSED, STATUS_WORDS, completionBlocked, type DeviceView } from "./flow";
import { SignaturePad } from "./media";
import type { StoredJob } from "./store";
import type { ChecklistItem, FieldJob, RefusedAction } from "./types";

export interface Recorder {
  /** Queue an action on this job. */
  record(type: string, payload: Record<string, unknown>): Promise<void>;
  /** Keep a photo or signature for upload; its attachment id. */
  keepFile(kind: "photo" | "signature", blob: Blob, caption: string): Promise<string>;
}

const HOLD_REASONS: [string, string][] = [
  ["parts_required", "Parts required"],
  ["customer_unavailable", "Customer unavailable"],
  ["access_denied", "Access denied"],
  ["awaiting_approval", "Awaiting approval"],
  ["safety", "Safety"],
  ["other", "Other"],
];

const INCOMPLETE_REASONS: [string, string][] = [
  ["parts_unavailable", "Parts unavailable"],
  ["no_access", "No access"],
  ["customer_cancelled", "Customer cancelled"],
  ["needs_specialist", "Needs a specialist"],
  ["unsafe", "Unsafe to continue"],
  ["out_of_time", "Out of time"],
  ["other", "Other"],
];

export function words(code: string): string {
  const text = code.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function select(name: string, options: [string, string][]): HTMLSelectElement {
  return h("select", { name, id: uid(name) }, ...options.map(([value, label]) => h("option", { value }, label)));
}

function section(title: string, ...body: (Node | null | false)[]): HTMLElement {
  return h("section", { class: "tech-section" }, h("h2", {}, title), ...body);
}

/** A form input the technician must put right; the field itself says what is wrong. */
class Invalid extends Error {}

function invalid(control: HTMLElement, message: string): Invalid {
  fieldError(control, message);
  return new Invalid(message);
}

/** A form whose submit runs `act` and says what went wrong on the form itself. */
function form(label: string, fields: HTMLElement[], act: (form: HTMLFormElement) => Promise<void>, primary = false): HTMLFormElement {
  const status = h("p", { class: "form-status", role: "status" });
  const button = h("button", { type: "submit", class: `tap${primary ? " primary" : ""}` }, label);
  const element = h("form", { novalidate: true, class: "tech-form" }, ...fields, button, status);
  element.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    try {
      for (const control of element.querySelectorAll<HTMLElement>("[aria-invalid]")) fieldError(control, "");
      await act(element);
      status.textContent = "Saved on this phone.";
    } catch (error) {
      status.textContent = error instanceof Invalid ? "Put the marked fields right." : error instanceof Error ? error.message : String(error);
    } finally {
      button.disabled = false;
    }
  });
  return element;
}

function need(control: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement, message: string): boolean {
  const empty = !control.value.trim();
  fieldError(control, empty ? message : "");
  return !empty;
}

export function localTime(iso: string | null | undefined, zone: string): string {
  if (!iso) return "—";
  return new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", timeZone: zone }).format(new Date(iso));
}

function packSection(job: FieldJob, zone: string): HTMLElement {
  const pack = job.job_pack;
  if (!pack) return section("Job pack", h("p", {}, "The job pack has not arrived yet."));
  const d = pack.details;
  const where = d.site.location;
  const directions = where ? `https://www.openstreetmap.org/directions?to=${where.lat}%2C${where.lon}` : "";
  return section(
    "Job pack",
    h("p", { class: "job-description" }, d.description),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "When"),
      h("dd", {}, `${localTime(job.window_start, zone)}–${localTime(job.window_end, zone)}`),
      h("dt", {}, "Customer"),
      h("dd", {}, d.customer_name ?? d.customer_id),
      h("dt", {}, "Address"),
      h("dd", {}, d.site.address, directions ? h("br") : null, directions ? h("a", { href: directions, target: "_blank", rel: "noopener" }, "Directions") : null),
      d.contact ? h("dt", {}, "Contact") : null,
      d.contact ? h("dd", {}, d.contact.name, d.contact.phone ? [" · ", h("a", { href: `tel:${d.contact.phone}` }, d.contact.phone)] : []) : null,
      d.access_instructions ? h("dt", {}, "Access") : null,
      d.access_instructions ? h("dd", {}, d.access_instructions) : null,
      d.asset ? h("dt", {}, "Asset") : null,
      d.asset ? h("dd", {}, [d.asset.asset_type, d.asset.make, d.asset.model, d.asset.serial_number].filter(Boolean).join(" · ")) : null,
    ),
    d.safety_requirements.length ? h("div", { class: "safety" }, h("h3", {}, "Safety"), h("ul", {}, ...d.safety_requirements.map((s) => h("li", {}, s)))) : null,
    d.parts.length ? h("div", {}, h("h3", {}, "Parts to bring"), h("ul", {}, ...d.parts.map((p) => h("li", {}, `${p.quantity_milli / 1000} ${p.unit} × ${p.description} (${p.sku})`)))) : null,
    pack.notes_carried_forward.length ? h("div", {}, h("h3", {}, "Notes from earlier visits"), h("ul", {}, ...pack.notes_carried_forward.map((n) => h("li", {}, n.text)))) : null,
    pack.site_history.length
      ? h("div", {}, h("h3", {}, "Site history"), h("ul", {}, ...pack.site_history.map((v) => h("li", {}, `${v.completed_at.slice(0, 10)} ${words(v.job_type)}: ${v.outcome}${v.summary ? ` — ${v.summary}` : ""}`))))
      : null,
  );
}

function stepForms(view: DeviceView, recorder: Recorder): HTMLElement[] {
  const out: HTMLElement[] = [];
  for (const action of view.next) {
    if (action === "start_travel") {
      const eta = h("input", { type: "number", name: "eta_minutes", min: 1, max: 600, value: 20, inputmode: "numeric" });
      out.push(
        form("Set off", [field("Minutes until you arrive", eta)], async () => {
          const minutes = Number(eta.value);
          if (!(minutes >= 1 && minutes <= 600)) throw invalid(eta, "Give the minutes until you arrive (1 to 600).");
          await recorder.record("start_travel", { eta: new Date(Date.now() + minutes * 60_000).toISOString() });
        }, true),
      );
    } else if (action === "revise_eta") {
      const eta = h("input", { type: "number", name: "new_eta_minutes", min: 1, max: 600, value: 15, inputmode: "numeric" });
      out.push(h("details", {}, h("summary", { class: "tap" }, "Running late? New ETA"), form("Send the new ETA", [field("Minutes from now until you arrive", eta)], async () => {
        const minutes = Number(eta.value);
        if (!(minutes >= 1 && minutes <= 600)) throw invalid(eta, "Give the minutes until you arrive (1 to 600).");
        await recorder.record("revise_eta", { eta: new Date(Date.now() + minutes * 60_000).toISOString() });
      })));
    } else if (action === "put_on_hold") {
      const reason = select("reason", HOLD_REASONS);
      const detail = h("input", { type: "text", name: "detail", maxlength: 2000 });
      out.push(h("details", {}, h("summary", { class: "tap" }, "Put on hold"), form("Put on hold", [field("Why", reason), field("Detail (optional)", detail)], async () => {
        await recorder.record("put_on_hold", { reason: reason.value, detail: detail.value.trim() });
      })));
    } else if (action === "complete") {
      out.push(completeForm(view, recorder));
    } else if (action === "could_not_complete") {
      const reason = select("reason", INCOMPLETE_REASONS);
      const detail = h("textarea", { name: "detail", rows: 2, maxlength: 2000 });
      out.push(h("details", {}, h("summary", { class: "tap" }, "Could not complete"), form("Could not complete", [field("Why", reason), field("What happened", detail)], async () => {
        if (!need(detail, "Say what happened, for the office.")) throw new Invalid();
        await recorder.record("could_not_complete", { reason: reason.value, detail: detail.value.trim(), follow_up_needed: true });
      })));
    } else {
      const button = h("button", { type: "button", class: "tap primary", "data-action": action }, ACTION_WORDS[action] ?? words(action));
      button.addEventListener("click", async () => {
        button.disabled = true;
        await recorder.record(action, {});
      });
      out.push(button);
    }
  }
  return out;
}

function completeForm(view: DeviceView, recorder: Recorder): HTMLElement {
  const blocked = completionBlocked(view);
  const workDone = h("textarea", { name: "work_done", rows: 3, maxlength: 5000 });
  const firstTime = h("input", { type: "checkbox", name: "first_time_fix", checked: true, id: uid("ftf") });
  const followUp = h("input", { type: "checkbox", name: "follow_up_needed", id: uid("fu") });
  const box = (input: HTMLInputElement, label: string) => h("label", { class: "check", for: input.id }, input, label);
  const done = form("Complete the job", [field("Work done", workDone), box(firstTime, "Fixed first time"), box(followUp, "Needs a follow-up visit")], async () => {
    if (!need(workDone, "Say what was done: it goes on the invoice and the site's history.")) throw new Invalid();
    await recorder.record("complete", {
      work_done: workDone.value.trim(),
      first_time_fix: firstTime.checked,
      ...(followUp.checked ? { follow_up_needed: true, follow_up_reason: "Raised by the technician on completion" } : {}),
    });
  }, true);
  done.dataset.step = "complete";
  if (blocked) {
    done.querySelector("button")?.setAttribute("disabled", "");
    done.prepend(h("p", { class: "blocked", id: "complete-blocked" }, blocked));
  }
  return h("div", { class: "complete" }, h("h3", {}, "Complete"), done);
}

function checklistSection(job: FieldJob, view: DeviceView, recorder: Recorder, open: boolean): HTMLElement | null {
  const sheet = job.job_pack?.details.checklist;
  if (!sheet) return null;
  const items = sheet.items.map((item) => checklistItem(item, view, recorder, open));
  return section(`Job sheet: ${sheet.title}`, view.missing.length ? h("p", { class: "hint" }, `${view.missing.length} required to answer`) : h("p", { class: "hint" }, "Every required item answered."), ...items);
}

function checklistItem(item: ChecklistItem, view: DeviceView, recorder: Recorder, open: boolean): HTMLElement {
  const answer = view.answers[item.item_id];
  const shown = answer
    ? answer.answer_type === "yes_no"
      ? answer.yes_no ? "Yes" : "No"
      : answer.answer_type === "number"
        ? `${answer.number} ${answer.unit ?? ""}`
        : answer.answer_type === "photo" ? "Photo taken" : (answer.text ?? "")
    : "Not answered";
  const head = h("p", { class: "item-head" }, h("strong", {}, item.label), item.required ? " (required)" : " (optional)", h("br"), h("span", { class: answer ? "answered" : "unanswered" }, shown));
  if (!open) return h("div", { class: "item", "data-item-id": item.item_id }, head);
  let control: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;
  if (item.answer_type === "yes_no") control = select("answer", [["yes", "Yes"], ["no", "No"]]);
  else if (item.answer_type === "number") control = h("input", { type: "number", name: "answer", step: "any", inputmode: "decimal" });
  else if (item.answer_type === "text") control = h("textarea", { name: "answer", rows: 2 });
  else control = h("input", { type: "file", name: "answer", accept: "image/*", capture: "environment" });
  const label = item.answer_type === "photo" ? "Take the photo" : `Answer${item.unit ? ` (${item.unit})` : ""}`;
  const save = form(answer ? "Change answer" : "Save answer", [field(label, control)], async () => {
    const payload: Record<string, unknown> = { answer_type: item.answer_type };
    if (item.answer_type === "yes_no") payload.yes_no = control.value === "yes";
    else if (item.answer_type === "number") {
      if (!need(control, "Give a number.") || Number.isNaN(Number(control.value))) throw new Invalid();
      payload.number = Number(control.value);
      if (item.unit) payload.unit = item.unit;
    } else if (item.answer_type === "text") {
      if (!need(control, "Write the answer.")) throw new Invalid();
      payload.text = control.value.trim();
    } else {
      const file = (control as HTMLInputElement).files?.[0];
      if (!file) throw invalid(control, "Take or choose a photo.");
      payload.attachment_id = await recorder.keepFile("photo", file, item.label);
    }
    await recorder.record("answer_checklist_item", { item_id: item.item_id, answer: payload });
  });
  return h("div", { class: "item", "data-item-id": item.item_id }, head, save);
}

function recordsSection(job: FieldJob, view: DeviceView, recorder: Recorder): HTMLElement {
  const minutes = h("input", { type: "number", name: "minutes", min: 1, max: 1440, inputmode: "numeric" });
  const kind = select("kind", [["labour", "Labour"], ["travel", "Travel"]]);
  const time = form("Log time", [field("Kind", kind), field("Minutes", minutes)], async () => {
    const value = Number(minutes.value);
    if (!(Number.isInteger(value) && value >= 1 && value <= 1440)) throw invalid(minutes, "Give whole minutes, 1 to 1440.");
    await recorder.record("log_time", { kind: kind.value, minutes: value });
  });

  const parts = job.job_pack?.details.parts ?? [];
  const sku = h("input", { type: "text", name: "sku", maxlength: 100, value: parts[0]?.sku ?? "", autocomplete: "off" });
  const description = h("input", { type: "text", name: "description", maxlength: 200, value: parts[0]?.description ?? "" });
  const quantity = h("input", { type: "number", name: "quantity", min: 0.001, step: "any", value: 1, inputmode: "decimal" });
  const material = form("Record material", [field("Part number (SKU)", sku), field("Description", description), field("Quantity", quantity)], async () => {
    const ok = [need(sku, "Give the part number."), need(description, "Say what was used.")].every(Boolean);
    const qty = Number(quantity.value);
    if (!ok) throw new Invalid();
    if (!(qty > 0)) throw invalid(quantity, "Give a quantity above zero.");
    await recorder.record("use_material", { sku: sku.value.trim(), description: description.value.trim(), quantity_milli: Math.round(qty * 1000), unit: parts.find((p) => p.sku === sku.value.trim())?.unit ?? "each" });
  });

  const partSku = h("input", { type: "text", name: "sku", maxlength: 100, autocomplete: "off" });
  const partDescription = h("input", { type: "text", name: "description", maxlength: 200 });
  const partNote = h("input", { type: "text", name: "note", maxlength: 2000 });
  const request = form("Request parts", [field("Part number (SKU)", partSku), field("Description", partDescription), field("Note for the office (optional)", partNote)], async () => {
    if (![need(partSku, "Give the part number."), need(partDescription, "Say which part.")].every(Boolean)) throw new Invalid();
    await recorder.record("request_parts", { parts: [{ sku: partSku.value.trim(), description: partDescription.value.trim(), quantity_milli: 1000, unit: "each" }], note: partNote.value.trim() });
  });

  const text = h("textarea", { name: "text", rows: 3, maxlength: 5000 });
  const carry = h("input", { type: "checkbox", name: "carry_forward", id: uid("carry") });
  const note = form("Add note", [field("Note", text), h("label", { class: "check", for: carry.id }, carry, "Show it at the next visit to this site")], async () => {
    if (!need(text, "Write the note.")) throw new Invalid();
    await recorder.record("add_note", { text: text.value.trim(), carry_forward: carry.checked });
  });

  const photo = h("input", { type: "file", name: "photo", accept: "image/*", capture: "environment" });
  const caption = h("input", { type: "text", name: "caption", maxlength: 500 });
  const photos = form("Keep photo", [field("Photo", photo), field("Caption (optional)", caption)], async () => {
    const file = photo.files?.[0];
    if (!file) throw invalid(photo, "Take or choose a photo.");
    await recorder.keepFile("photo", file, caption.value.trim());
  });

  return section(
    "Records",
    h("p", { class: "hint" }, `Labour ${view.labourMinutes} min · travel ${view.travelMinutes} min · ${view.materials.length} material(s) · ${view.notes.length} note(s)`),
    view.materials.length ? h("ul", { class: "records" }, ...view.materials.map((m) => h("li", {}, `${m.quantity} ${m.unit} × ${m.description}${m.pending ? " (waiting to send)" : ""}`))) : null,
    view.notes.length ? h("ul", { class: "records" }, ...view.notes.map((n) => h("li", {}, `${n.text}${n.pending ? " (waiting to send)" : ""}`))) : null,
    h("details", {}, h("summary", { class: "tap" }, "Time"), time),
    h("details", {}, h("summary", { class: "tap" }, "Material used"), material),
    h("details", {}, h("summary", { class: "tap" }, "Parts request"), request),
    h("details", {}, h("summary", { class: "tap" }, "Note"), note),
    h("details", {}, h("summary", { class: "tap" }, "Photo"), photos),
  );
}

function signatureSection(view: DeviceView, recorder: Recorder): HTMLElement {
  const canvas = h("canvas", { width: 600, height: 220, class: "signature", "aria-label": "Signature: sign with a finger" });
  const name = h("input", { type: "text", name: "signer_name", maxlength: 200, autocomplete: "off" });
  const pad = new SignaturePad(canvas);
  const clear = h("button", { type: "button", class: "tap" }, "Clear");
  clear.addEventListener("click", () => pad.clear());
  const sign = form("Save signature", [h("div", { class: "field" }, h("span", { class: "label" }, "Customer's signature"), canvas, clear), field("Name of the person signing", name)], async () => {
    if (!need(name, "Give the signer's name.")) throw new Invalid();
    if (pad.isEmpty) throw new Error("Ask the customer to sign in the box first.");
    const attachmentId = await recorder.keepFile("signature", await pad.png(), `Signed by ${name.value.trim()}`);
    await recorder.record("capture_signature", { attachment_id: attachmentId, signer_name: name.value.trim(), signed_at: new Date().toISOString() });
  });
  return section("Signature", view.signed.length ? h("p", {}, `Signed by ${view.signed.join(", ")}.`) : null, sign);
}

function refusedSection(refused: RefusedAction[]): HTMLElement | null {
  if (!refused.length) return null;
  return h(
    "section",
    { class: "tech-section refused", "aria-labelledby": "refused-title" },
    h("h2", { id: "refused-title" }, "Not accepted"),
    h("p", {}, "The server did not apply these. They are kept, and the office sees them too."),
    h("ul", {}, ...refused.map((r) => h("li", { "data-action-id": r.action_id }, h("strong", {}, ACTION_WORDS[r.type] ?? words(r.type)), `: ${r.reason}`))),
  );
}

export function jobView(stored: StoredJob, view: DeviceView, refused: RefusedAction[], recorder: Recorder, zone: string): HTMLElement {
  const job = stored.view;
  const d = job.job_pack?.details;
  const closed = CLOSED.has(view.status);
  const open = !closed && !stored.taken_away;
  return h(
    "article",
    { class: "job", "data-work-order-id": job.work_order_id, "data-status": view.status },
    h("p", {}, h("a", { href: "#", class: "back" }, "← My jobs")),
    h("h1", {}, d ? `${d.priority} ${words(d.job_type)}` : job.work_order_id),
    h("p", { class: "job-status" }, h("span", { class: `status status-${view.status}` }, STATUS_WORDS[view.status] ?? words(view.status)), view.pending ? h("span", { class: "pending" }, ` ${view.pending} waiting to send`) : null),
    stored.taken_away ? h("p", { class: "alert", role: "alert" }, stored.taken_away, " What you recorded is kept and has gone to the office.") : null,
    refusedSection(refused),
    open && view.next.length ? section("Next step", ...stepForms(view, recorder)) : null,
    packSection(job, zone),
    checklistSection(job, view, recorder, open),
    open ? recordsSection(job, view, recorder) : null,
    open ? signatureSection(view, recorder) : null,
  );
}

// The shapes the technician app reads from fieldupdates (GET /jobs/{id}) and keeps on the
// device. Only the fields the app uses are named.

export interface ChecklistItem {
  item_id: string;
  label: string;
  answer_type: "yes_no" | "number" | "text" | "photo";
  unit?: string | null;
  required: boolean;
}

export interface ChecklistAnswer {
  answer_type: ChecklistItem["answer_type"];
  yes_no?: boolean | null;
  number?: number | null;
  unit?: string | null;
  text?: string | null;
  attachment_id?: string | null;
}

export interface Part {
  sku: string;
  description: string;
  quantity_milli: number;
  unit: string;
}

export interface JobPack {
  window_start: string;
  window_end: string;
  details: {
    customer_id: string;
    customer_name?: string | null;
    site: { site_id: string; address: string; location: { lat: number; lon: number } };
    contact?: { name: string; phone?: string | null; email?: string | null } | null;
    asset?: { asset_id: string; asset_type: string; make?: string | null; model?: string | null; serial_number?: string | null } | null;
    job_type: string;
    description: string;
    priority: string;
    parts: Part[];
    safety_requirements: string[];
    access_instructions: string;
    checklist?: { template_id: string; title: string; items: ChecklistItem[] } | null;
  };
  notes_carried_forward: { note_id: string; text: string; written_by: string; written_at: string }[];
  site_history: { work_order_id: string; job_type: string; completed_at: string; outcome: string; summary: string }[];
}

export interface FieldJob {
  work_order_id: string;
  technician_id: string | null;
  status: string;
  allowed_actions: string[];
  cancelled: boolean;
  withdrawn_reason?: string | null;
  window_start: string | null;
  window_end: string | null;
  eta?: string | null;
  job_pack: JobPack | null;
  checklist: { answers: Record<string, ChecklistAnswer>; missing_required: string[] };
  time: { entries: { kind: string; minutes: number }[]; labour_minutes: number; travel_minutes: number };
  materials: { sku: string; description: string; quantity_milli: number; unit: string }[];
  parts_requests: { parts: Part[]; note: string }[];
  notes: { text: string }[];
  attachments: { attachment_id: string; kind: string; caption?: string }[];
  signatures: { signer_name: string }[];
  version: number;
}

/** One action recorded on the device, waiting for `POST /sync`. */
export interface QueuedAction {
  action_id: string;
  work_order_id: string;
  type: string;
  device_time: string;
  device_seq: number;
  payload: Record<string, unknown>;
}

/** A photo or signature waiting to upload (bytes and their checksum, made on the device). */
export interface PendingFile {
  attachment_id: string;
  work_order_id: string;
  kind: "photo" | "signature";
  content_type: string;
  sha256: string;
  caption: string;
  device_time: string;
  blob: Blob;
}

/** What the server would not apply, and why (kept by the server for the office too). */
export interface RefusedAction {
  action_id: string;
  work_order_id: string;
  type: string;
  reason: string;
  refused_at: string;
}

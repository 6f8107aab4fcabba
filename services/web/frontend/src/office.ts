// The office pages without waiting for a round trip: on the log-a-call form, the SLA
// deadlines and the duplicate warning follow the fields as they are filled in. Without
// this script the same check happens on the server before anything is saved.

import { api } from "./lib/api";

interface Preview {
  respond_by: string;
  resolve_by: string;
  contract_id: string | null;
  possible_duplicate: { work_order_id: string; similarity: number; description: string } | null;
}

const form = document.getElementById("request-form") as HTMLFormElement | null;

function value(name: string): string {
  const field = form?.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement | null;
  return field?.value.trim() ?? "";
}

function box(): HTMLElement {
  let found = document.getElementById("preview");
  if (!found && form) {
    found = document.createElement("div");
    found.id = "preview";
    found.setAttribute("role", "status");
    form.before(found);
  }
  return found as HTMLElement;
}

const clock = new Intl.DateTimeFormat("en-GB", { day: "2-digit", month: "short", hour: "2-digit", minute: "2-digit" });
let timer: number | undefined;

async function check(): Promise<void> {
  if (!value("site_id") || !value("priority") || !value("description")) return;
  try {
    const preview = await api<Preview>("POST", "/api/intake/requests/preview", {
      customer_id: value("customer_id"),
      site_id: value("site_id"),
      asset_id: value("asset_id") || null,
      contact_id: value("contact_id") || null,
      description: value("description"),
      priority: value("priority"),
      job_type: value("job_type") || null,
    });
    const target = box();
    target.className = preview.possible_duplicate ? "warning" : "notice";
    const p = document.createElement("p");
    const strong = document.createElement("strong");
    strong.textContent = `Respond by ${clock.format(new Date(preview.respond_by))}, resolve by ${clock.format(new Date(preview.resolve_by))}`;
    p.append(strong, ` (${preview.contract_id ? `contract ${preview.contract_id}` : "standard terms"}).`);
    target.replaceChildren(p);
    if (preview.possible_duplicate) {
      const d = preview.possible_duplicate;
      const warn = document.createElement("p");
      const link = document.createElement("a");
      link.href = `/office/work-orders/${encodeURIComponent(d.work_order_id)}`;
      link.textContent = `“${d.description}”`;
      warn.append(`Possible duplicate: an open request at this site reads alike (${Math.round(d.similarity * 100)} %): `, link, ".");
      target.append(warn);
    }
  } catch {
    // The server's check on submit says what is wrong, at the field.
  }
}

form?.addEventListener("input", () => {
  window.clearTimeout(timer);
  timer = window.setTimeout(() => void check(), 400);
});

// The dispatch board as dispatch's GET /board returns it.

export interface GeoPoint {
  lat: number;
  lon: number;
}

export interface Card {
  work_order_id: string;
  priority: string;
  job_type: string;
  site: { site_id: string; address: string; location: GeoPoint };
  customer_id: string;
  customer_name: string | null;
  description: string;
  required_skills: string[];
  estimated_duration_minutes: number;
  state: string;
  field_status: string | null;
  technician_id: string | null;
  window_start: string | null;
  window_end: string | null;
  eta: string | null;
  travel_minutes: number | null;
  respond_by: string;
  resolve_by: string;
  sla_risk: "ok" | "at_risk" | "breached";
  sla_slack_minutes: number;
  forced: boolean;
  failure_reason: string | null;
  failure_detail: string | null;
}

export interface TimelineItem {
  kind: "travel" | "job";
  start: string;
  end: string;
  work_order_id?: string;
  to?: string;
  priority?: string;
  field_status?: string | null;
  sla_risk?: string;
}

export interface Span {
  start: string;
  end: string;
}

export interface TechnicianRow {
  technician_id: string;
  name: string;
  active: boolean;
  status: string;
  current_job: string | null;
  location: (GeoPoint & { located_at: string }) | null;
  timeline: TimelineItem[];
  skills: string[];
  home_base: GeoPoint | null;
  working: (Span & { overtime_end: string })[];
  absences: (Span & { reason: string })[];
}

export interface Board {
  day: string;
  time_zone: string;
  as_of: string;
  tiers: { priority: string; jobs: Card[] }[];
  technicians: TechnicianRow[];
  unscheduled: Card[];
  failed: Card[];
}

export interface Filters {
  skill: string;
  area: string;
  priorities: Set<string>;
}

/** The area of a site: the first word of the address's last part (a UK postcode's
 * outward code, "M1" of "…, Manchester M1 2AB" → the last part's first word). */
export function areaOf(address: string): string {
  const parts = address.split(",").map((p) => p.trim()).filter(Boolean);
  const last = parts[parts.length - 1] ?? "";
  const postcode = last.match(/\b([A-Z]{1,2}\d[A-Z\d]?)\s*\d[A-Z]{2}\b/i);
  return (postcode ? postcode[1] : last.split(/\s+/)[0] ?? "").toUpperCase();
}

export function allCards(board: Board): Map<string, Card> {
  const cards = new Map<string, Card>();
  for (const tier of board.tiers) for (const c of tier.jobs) cards.set(c.work_order_id, c);
  for (const c of board.unscheduled) cards.set(c.work_order_id, c);
  for (const c of board.failed) cards.set(c.work_order_id, c);
  return cards;
}

export function cardVisible(card: Card, filters: Filters): boolean {
  if (filters.priorities.size && !filters.priorities.has(card.priority)) return false;
  if (filters.skill && !card.required_skills.includes(filters.skill)) return false;
  if (filters.area && areaOf(card.site.address) !== filters.area) return false;
  return true;
}

export function technicianVisible(t: TechnicianRow, filters: Filters): boolean {
  return !filters.skill || t.skills.includes(filters.skill);
}

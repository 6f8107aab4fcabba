// Calls to the front door's browser API: same origin, the session cookie, and the CSRF
// token from the page's <meta name="csrf-token"> on every state-changing request.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
  ) {
    super(describe(detail) || `HTTP ${status}`);
  }
}

/** The page's CSRF token (every state-changing call sends it). */
export function csrfToken(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? "";
}

/** A service's error detail in words: FastAPI's list of field errors, or our own shapes. */
export function describe(detail: unknown): string {
  if (detail == null) return "";
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((d) => {
        if (d && typeof d === "object" && "msg" in d) {
          const loc = (d as { loc?: unknown[] }).loc ?? [];
          const where = loc.filter((p) => p !== "body").join(".");
          return `${where ? where + ": " : ""}${String((d as { msg: unknown }).msg)}`;
        }
        return describe(d);
      })
      .join("; ");
  }
  if (typeof detail === "object") {
    const d = detail as Record<string, unknown>;
    const head = describe(d.error ?? d.message ?? d.detail ?? "");
    const violations = Array.isArray(d.violations) ? d.violations.map(describe).join("; ") : "";
    return [head, violations].filter(Boolean).join(": ") || JSON.stringify(detail);
  }
  return String(detail);
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (method !== "GET") headers["x-csrf-token"] = csrfToken();
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const text = await response.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (response.status === 401) {
    window.location.assign(`/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`);
  }
  if (!response.ok) {
    const detail = data && typeof data === "object" && "detail" in data ? (data as { detail: unknown }).detail : data;
    throw new ApiError(response.status, detail);
  }
  return data as T;
}

/** Say something in the page's polite live region. */
export function announce(region: HTMLElement, message: string, kind: "notice" | "alert" | "warning" = "notice"): void {
  region.className = `board-status ${kind}`;
  region.textContent = message;
}

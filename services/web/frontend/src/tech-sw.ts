// The technician app's service worker (scope /tech): it keeps the app shell so the app
// opens with no network. The page itself is network-first (a fresh copy carries a fresh
// CSRF token and any new build), falling back to the kept copy; the built files are
// content-hashed, so cache-first is always right for them. API calls and the live stream
// are never cached: the app keeps its data in IndexedDB and says when it is offline.

export {};
declare const self: ServiceWorkerGlobalScope & { JOBSTREAM_SHELL: { version: string; urls: string[] } };

const SHELL = self.JOBSTREAM_SHELL;
const CACHE = `jobstream-tech-${SHELL.version}`;
const PAGE = "/tech";
const PAGE_TIMEOUT_MS = 4000; // a bad signal: use the kept page rather than wait for ever

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll(SHELL.urls.map((url) => new Request(url, { credentials: "same-origin", cache: "reload" })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("jobstream-tech-") && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

async function page(request: Request): Promise<Response> {
  const cache = await caches.open(CACHE);
  try {
    const response = await Promise.race([
      fetch(request),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("slow")), PAGE_TIMEOUT_MS)),
    ]);
    // Keep only the app itself: not a sign-in page the session's end redirected to.
    if (response.ok && !response.redirected) await cache.put(PAGE, response.clone());
    return response;
  } catch {
    const kept = await cache.match(PAGE);
    return kept ?? new Response("Offline, and the app was never opened here online.", { status: 503, headers: { "content-type": "text/plain" } });
  }
}

async function asset(request: Request): Promise<Response> {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(request);
  if (kept) return kept;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (event.request.mode === "navigate" && url.pathname === PAGE) event.respondWith(page(event.request));
  else if (url.pathname.startsWith("/static/")) event.respondWith(asset(event.request));
});

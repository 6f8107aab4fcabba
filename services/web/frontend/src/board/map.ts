// The day on a map: job sites coloured by priority, each technician's last known place
// (or home base), and their route. Tiles come from the configured server; with none (or
// none reachable) the map still shows every marker and route on a blank background.

import * as L from "leaflet";
import { type Board, type Card, type Filters, cardVisible, technicianVisible } from "./types";

export class DayMap {
  private readonly map: L.Map;
  private readonly layer = L.layerGroup();
  private fitted = false;

  constructor(host: HTMLElement, tileUrl: string, attribution: string) {
    this.map = L.map(host, { zoomControl: true, attributionControl: Boolean(attribution) });
    if (tileUrl) L.tileLayer(tileUrl, { attribution, maxZoom: 19 }).addTo(this.map);
    this.layer.addTo(this.map);
    this.map.setView([53.48, -2.24], 10);
  }

  show(board: Board, cards: Map<string, Card>, filters: Filters, onPick: (id: string) => void): void {
    this.layer.clearLayers();
    const bounds: L.LatLngExpression[] = [];
    for (const card of cards.values()) {
      if (!cardVisible(card, filters)) continue;
      const at: L.LatLngExpression = [card.site.location.lat, card.site.location.lon];
      bounds.push(at);
      const marker = L.marker(at, {
        icon: L.divIcon({ className: "", html: `<span class="site-marker p-${card.priority}"></span>`, iconSize: [14, 14] }),
        title: `${card.priority} ${card.job_type}, ${card.site.address}`,
        alt: `${card.priority} ${card.job_type}`,
        keyboard: true,
      });
      marker.on("click", () => onPick(card.work_order_id));
      marker.addTo(this.layer);
    }
    for (const t of board.technicians) {
      if (!technicianVisible(t, filters)) continue;
      const where = t.location ?? t.home_base;
      if (!where) continue;
      const at: L.LatLngExpression = [where.lat, where.lon];
      bounds.push(at);
      L.marker(at, {
        icon: L.divIcon({ className: "", html: `<span class="tech-marker">${escapeHtml(t.name)}</span>`, iconSize: [80, 16] }),
        title: `${t.name}${t.location ? "" : " (home base)"}`,
        alt: t.name,
        keyboard: false,
      }).addTo(this.layer);
      const route: L.LatLngExpression[] = t.home_base ? [[t.home_base.lat, t.home_base.lon]] : [];
      for (const item of t.timeline) {
        const card = item.kind === "job" ? cards.get(item.work_order_id ?? "") : undefined;
        if (card) route.push([card.site.location.lat, card.site.location.lon]);
      }
      if (route.length > 1) {
        L.polyline(route, { color: "#14304f", weight: 2, opacity: 0.6, dashArray: "4 4" }).addTo(this.layer);
      }
    }
    if (!this.fitted && bounds.length) {
      this.map.fitBounds(L.latLngBounds(bounds), { padding: [20, 20], maxZoom: 13 });
      this.fitted = true;
    }
  }

  resize(): void {
    this.map.invalidateSize();
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

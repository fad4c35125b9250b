import { api, data, unwrap } from "@/lib/api";
import type { components } from "@/lib/api-schema";
import type { MenuItem } from "@/lib/api-types";

export type Floor = components["schemas"]["FloorOut"];
export type Station = components["schemas"]["StationOut"];
export type LineMark = components["schemas"]["LineMarkOut"];
export type OrderMarks = components["schemas"]["OrderMarksOut"];

export async function fetchFloor(): Promise<Floor> {
  return data(api.GET("/api/v1/admin/stations"));
}

/** The station's own printer; a null host gives its tickets back to the canteen's printer. */
export interface StationPrinter {
  host: string | null;
  /** null: 9100 */
  port: number | null;
}

/** A printer is optional: without one the canteen's printer prints its tickets. */
export async function createStation(name: string, sortOrder: number, printer?: StationPrinter): Promise<Station> {
  const own = printer?.host ? { printer_host: printer.host, printer_port: printer.port } : {};
  return data(api.POST("/api/v1/admin/stations", { body: { name, sort_order: sortOrder, ...own } }));
}

export async function renameStation(stationId: string, name: string): Promise<Station> {
  return data(
    api.PATCH("/api/v1/admin/stations/{station_id}", { params: { path: { station_id: stationId } }, body: { name } }),
  );
}

export async function setStationPrinter(stationId: string, printer: StationPrinter): Promise<Station> {
  return data(
    api.PATCH("/api/v1/admin/stations/{station_id}", {
      params: { path: { station_id: stationId } },
      body: { printer_host: printer.host, printer_port: printer.port },
    }),
  );
}

export async function deleteStation(stationId: string): Promise<void> {
  await unwrap(api.DELETE("/api/v1/admin/stations/{station_id}", { params: { path: { station_id: stationId } } }));
}

export async function setAutoReady(on: boolean): Promise<Floor> {
  return data(api.PATCH("/api/v1/admin/stations/settings", { body: { auto_ready: on } }));
}

export async function setItemStation(itemId: string, stationId: string | null): Promise<MenuItem> {
  return data(
    api.PUT("/api/v1/admin/menu/items/{item_id}/station", {
      params: { path: { item_id: itemId } },
      body: { station_id: stationId },
    }),
  );
}

export async function fetchMarks(): Promise<LineMark[]> {
  return data(api.GET("/api/v1/admin/stations/marks"));
}

export async function markLine(orderId: string, position: number, done: boolean): Promise<OrderMarks> {
  const options = { params: { path: { order_id: orderId, position } } };
  return data(
    done
      ? api.PUT("/api/v1/admin/orders/{order_id}/lines/{position}/done", options)
      : api.DELETE("/api/v1/admin/orders/{order_id}/lines/{position}/done", options),
  );
}

import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";

/** The mock API for component tests; each test adds the handlers it needs. The defaults:
 * a canteen with no kitchen stations (the board asks on every load) and no slots' kitchen
 * capacity (the Settings page asks). */
export const server = setupServer(
  http.get("http://localhost:3000/api/v1/admin/stations", () =>
    HttpResponse.json({ data: { stations: [], auto_ready: false } }),
  ),
  http.get("http://localhost:3000/api/v1/admin/stations/marks", () => HttpResponse.json({ data: [] })),
  http.get("http://localhost:3000/api/v1/admin/kitchen/capacity", () =>
    HttpResponse.json({ data: { default_minutes_per_window: 15, slots: [] } }),
  ),
);

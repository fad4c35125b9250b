import { API_PREFIX, api, apiUrl, authFetch, data, toApiError, unwrap } from "@/lib/api";
import type { components } from "@/lib/api-schema";

type Schemas = components["schemas"];
export type Figures = Schemas["Figures"];
export type Dashboard = Schemas["Dashboard"];
export type SalesReport = Schemas["SalesReport"];
export type DishReport = Schemas["DishReport"];
export type CashDay = Schemas["CashDay"];
export type RefundRow = Schemas["RefundRow"];
export type FeedbackRow = Schemas["FeedbackRow"];
export type SalesGroup = Schemas["SalesGroup"];
export type DishGroup = Schemas["DishGroup"];

/** A range of the canteen's local days, both included (YYYY-MM-DD). */
export interface Range {
  from: string;
  to: string;
}

export async function fetchDashboard(): Promise<Dashboard> {
  return data(api.GET("/api/v1/admin/reports/dashboard"));
}

export async function fetchSales(range: Range, group: SalesGroup): Promise<SalesReport> {
  return data(api.GET("/api/v1/admin/reports/sales", { params: { query: { ...range, group } } }));
}

export async function fetchDishes(range: Range, group: DishGroup): Promise<DishReport> {
  return data(api.GET("/api/v1/admin/reports/dishes", { params: { query: { ...range, group } } }));
}

export async function fetchCashDrawer(range: Range): Promise<CashDay[]> {
  return data(api.GET("/api/v1/admin/reports/cash-drawer", { params: { query: range } }));
}

/** Lists are paged by the API; the portal shows the first 500 and the CSV has them all. */
export async function fetchRefunds(range: Range): Promise<{ rows: RefundRow[]; total: number }> {
  const body = await unwrap(
    api.GET("/api/v1/admin/reports/refunds", { params: { query: { ...range, per_page: 500 } } }),
  );
  return { rows: body.data, total: body.meta.total };
}

export async function fetchFeedback(
  range: Range,
  rating: number | null,
): Promise<{ rows: FeedbackRow[]; total: number }> {
  const query = { ...range, per_page: 500, ...(rating ? { rating } : {}) };
  const body = await unwrap(api.GET("/api/v1/admin/reports/feedback", { params: { query } }));
  return { rows: body.data, total: body.meta.total };
}

export type CsvKind = "sales" | "dishes" | "cash-drawer" | "refunds" | "feedback";

/** The CSV's URL with the same parameters the table was read with. */
export function csvPath(kind: CsvKind, params: Record<string, string | number | null | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") query.set(key, String(value));
  }
  return `${API_PREFIX}/admin/reports/${kind}.csv?${query.toString()}`;
}

/** Download a CSV with the session's token (a plain link would carry none). */
export async function downloadCsv(path: string): Promise<string> {
  const response = await authFetch(new Request(apiUrl(path), { headers: { Accept: "text/csv" } }));
  if (!response.ok) throw await toApiError(response);
  const name = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") ?? "")?.[1] ?? "report.csv";
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
  return name;
}

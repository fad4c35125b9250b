import { API_PREFIX, apiUrl, authFetch, toApiError } from "@/lib/api";

export interface PrinterSettings {
  auto_print: boolean;
  auto_print_since: string | null;
  printer_host: string | null;
  printer_port: number;
}

export type PrinterSettingsUpdate = Partial<Pick<PrinterSettings, "auto_print" | "printer_host" | "printer_port">>;

async function call(method: "GET" | "PATCH", body?: PrinterSettingsUpdate): Promise<PrinterSettings> {
  const response = await authFetch(
    new Request(apiUrl(`${API_PREFIX}/admin/printing`), {
      method,
      headers: { Accept: "application/json", ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    }),
  );
  if (!response.ok) throw await toApiError(response);
  return ((await response.json()) as { data: PrinterSettings }).data;
}

export const fetchPrinterSettings = () => call("GET");
export const updatePrinterSettings = (body: PrinterSettingsUpdate) => call("PATCH", body);

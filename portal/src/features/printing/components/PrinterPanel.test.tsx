import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";

import { apiError, signInAs } from "@/testing/factories";
import { renderPage } from "@/testing/render";
import { server } from "@/testing/server";

import type { PrinterSettings } from "../api/printing";
import { PrinterPanel } from "./PrinterPanel";

const API = "http://localhost:3000/api/v1/admin/printing";
const OFF: PrinterSettings = { auto_print: false, auto_print_since: null, printer_host: null, printer_port: 9100 };

describe("the kitchen ticket printer in Settings", () => {
  beforeEach(() => signInAs("admin"));

  it("shows the API's refusal by its field and saves once the host is there", async () => {
    let current = OFF;
    const patches: unknown[] = [];
    server.use(
      http.get(API, () => HttpResponse.json({ data: current })),
      http.patch(API, async ({ request }) => {
        const body = (await request.json()) as Partial<PrinterSettings>;
        patches.push(body);
        if (body.auto_print && !body.printer_host) {
          return HttpResponse.json(
            apiError("VALIDATION_ERROR", "Printing on confirm needs the printer's address", [
              { field: "printer_host", issue: "required", message: "Give the printer's host" },
            ]),
            { status: 400 },
          );
        }
        current = { ...current, ...body, auto_print_since: "2026-12-04T10:00:00Z" } as PrinterSettings;
        return HttpResponse.json({ data: current });
      }),
    );
    renderPage(<PrinterPanel />);
    await userEvent.click(await screen.findByRole("switch", { name: "Print when an order is confirmed" }));
    await userEvent.click(screen.getByRole("button", { name: "Save printer settings" }));
    expect(await screen.findByText("Give the printer's host")).toBeInTheDocument();
    await userEvent.type(screen.getByLabelText("Printer host"), "192.168.1.50");
    await userEvent.click(screen.getByRole("button", { name: "Save printer settings" }));
    await vi.waitFor(() => expect(patches).toHaveLength(2));
    expect(patches[1]).toEqual({ auto_print: true, printer_host: "192.168.1.50", printer_port: 9100 });
    expect(await screen.findByRole("switch", { name: "Print when an order is confirmed" })).toHaveAttribute(
      "aria-checked",
      "true",
    );
  });

  it("refuses a port that is not a number before sending anything", async () => {
    server.use(http.get(API, () => HttpResponse.json({ data: OFF })));
    renderPage(<PrinterPanel />);
    const port = await screen.findByLabelText("Printer port");
    await userEvent.clear(port);
    await userEvent.type(port, "ninety");
    expect(screen.getByText("A port is a number, 9100 for most printers.")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Save printer settings" })).toBeDisabled();
  });
});

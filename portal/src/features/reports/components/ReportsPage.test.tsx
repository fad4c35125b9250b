import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";

import { apiError, signInAs } from "@/testing/factories";
import { renderPage } from "@/testing/render";
import { server } from "@/testing/server";

import { ReportsPage } from "./ReportsPage";
import { cashDays, salesReport, stubResizeObserver } from "./test-data";

const R = "http://localhost:3000/api/v1/admin/reports";
const RANGE = "from=2026-11-10&to=2026-11-11";

beforeAll(stubResizeObserver);

function seen(into: URLSearchParams[]) {
  return ({ request }: { request: Request }) => {
    into.push(new URL(request.url).searchParams);
  };
}

describe("the reports page", () => {
  beforeEach(() => signInAs("admin"));

  it("reads the sales of the range in the URL by the chosen grouping, with totals and a chart", async () => {
    const asked: URLSearchParams[] = [];
    server.use(
      http.get(`${R}/sales`, (info) => {
        seen(asked)(info);
        return HttpResponse.json({ data: salesReport() });
      }),
    );
    renderPage(<ReportsPage />, { route: `/reports?${RANGE}` });
    const table = await screen.findByRole("table", { name: "Sales by day" });
    expect(within(table).getByRole("row", { name: /2026-11-10 7 ₹270.00 ₹165.00 ₹120.00 ₹15.00/ })).toBeInTheDocument();
    expect(within(table).getByRole("row", { name: /Total 7 ₹270.00/ })).toBeInTheDocument();
    expect(screen.getByRole("img", { name: "Net revenue (₹) by group" })).toBeInTheDocument();
    expect(asked.map((q) => q.toString())).toEqual([`${RANGE}&group=day`]);
  });

  it("switches to dishes and reads /dishes with the same range", async () => {
    const asked: URLSearchParams[] = [];
    server.use(
      http.get(`${R}/sales`, () => HttpResponse.json({ data: salesReport() })),
      http.get(`${R}/dishes`, (info) => {
        seen(asked)(info);
        return HttpResponse.json({
          data: {
            from: "2026-11-10",
            to: "2026-11-11",
            group: "dish",
            rows: [{ key: "d", label: "Masala Dosa", orders: 4, quantity: 4, sales: 24000, cancelled_quantity: 1 }],
          },
        });
      }),
    );
    renderPage(<ReportsPage />, { route: `/reports?${RANGE}` });
    await screen.findByRole("table", { name: "Sales by day" });
    await userEvent.selectOptions(screen.getByLabelText("Group by"), "dish");
    const table = await screen.findByRole("table", { name: "Sales by dish" });
    expect(within(table).getByRole("row", { name: "Masala Dosa 4 4 ₹240.00 1" })).toBeInTheDocument();
    expect(asked.map((q) => q.toString())).toEqual([`${RANGE}&group=dish`]);
  });

  it("makes a cash drawer day that does not balance stand out", async () => {
    server.use(http.get(`${R}/cash-drawer`, () => HttpResponse.json({ data: cashDays() })));
    renderPage(<ReportsPage />, { route: `/reports?view=cash&${RANGE}` });
    const short = await screen.findByTestId("cash-2026-11-10");
    expect(short).toHaveClass("row-alert");
    expect(within(short).getByText("₹75.00")).toHaveClass("difference-alert");
    expect(screen.getByTestId("cash-2026-11-12")).not.toHaveClass("row-alert");
    expect(within(screen.getByTestId("cash-2026-11-12")).getByText("balanced")).toBeInTheDocument();
    expect(screen.getByRole("row", { name: "— Ravi 1 ₹120.00" })).toBeInTheDocument();
  });

  it("downloads the CSV of what is shown, with the session's token", async () => {
    const asked: { query: string; auth: string | null }[] = [];
    server.use(
      http.get(`${R}/refunds`, () => HttpResponse.json({ data: [], meta: { page: 1, per_page: 500, total: 0 } })),
      http.get(`${R}/refunds.csv`, ({ request }) => {
        asked.push({ query: new URL(request.url).search, auth: request.headers.get("Authorization") });
        return new HttpResponse("order_id\r\n", {
          headers: { "Content-Type": "text/csv", "Content-Disposition": 'attachment; filename="refunds-x.csv"' },
        });
      }),
    );
    const created: Blob[] = [];
    URL.createObjectURL = (blob: Blob) => {
      created.push(blob);
      return "blob:refunds";
    };
    URL.revokeObjectURL = () => undefined;
    renderPage(<ReportsPage />, { route: `/reports?view=refunds&${RANGE}` });
    expect(await screen.findByText("No refunds in these days.")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Download CSV" }));
    await vi.waitFor(() => expect(created).toHaveLength(1));
    expect(asked).toEqual([{ query: `?${RANGE}`, auth: "Bearer access-admin" }]);
    expect(await created[0]!.text()).toBe("order_id\r\n");
  });

  it("filters feedback by rating", async () => {
    const asked: string[] = [];
    server.use(
      http.get(`${R}/feedback`, ({ request }) => {
        asked.push(new URL(request.url).searchParams.get("rating") ?? "any");
        return HttpResponse.json({
          data: [
            {
              order_id: "o1",
              order_number: "ORD-20261110-002",
              at: "2026-11-10T11:00:00+05:30",
              rating: 4,
              comment: "good",
              items: "1x Masala Dosa, 2x Cutting Chai",
            },
          ],
          meta: { page: 1, per_page: 500, total: 1 },
        });
      }),
    );
    renderPage(<ReportsPage />, { route: `/reports?view=feedback&${RANGE}` });
    expect(await screen.findByRole("row", { name: /ORD-20261110-002 4 ★ good 1x Masala Dosa/ })).toBeInTheDocument();
    await userEvent.selectOptions(screen.getByLabelText("Rating"), "4");
    await vi.waitFor(() => expect(asked).toEqual(["any", "4"]));
  });

  it("shows the API's reason when the range is refused", async () => {
    server.use(
      http.get(`${R}/sales`, () =>
        HttpResponse.json(
          apiError("VALIDATION_ERROR", "The request is not valid", [
            { field: "to", issue: "before_from", message: "The last day comes before the first" },
          ]),
          { status: 400 },
        ),
      ),
    );
    renderPage(<ReportsPage />, { route: "/reports?from=2026-11-11&to=2026-11-10" });
    expect(await screen.findByText(/The last day comes before the first/)).toBeInTheDocument();
  });
});

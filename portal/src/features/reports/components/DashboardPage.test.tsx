import { act, screen, within } from "@testing-library/react";
import { http, HttpResponse } from "msw";

import { feedStore } from "@/features/board/hooks/stores";
import { apiError, signInAs } from "@/testing/factories";
import { renderPage } from "@/testing/render";
import { server } from "@/testing/server";

import { DashboardPage } from "./DashboardPage";
import { dashboard, figures, stubResizeObserver } from "./test-data";

const URL = "http://localhost:3000/api/v1/admin/reports/dashboard";

beforeAll(stubResizeObserver);

describe("the dashboard", () => {
  beforeEach(() => signInAs("admin"));

  it("shows today's figures against last week's, the cancellations and the top dishes", async () => {
    server.use(http.get(URL, () => HttpResponse.json({ data: dashboard() })));
    renderPage(<DashboardPage />);
    expect(await screen.findByTestId("fig-orders")).toHaveTextContent("5");
    const orders = screen.getByRole("region", { name: "Orders" });
    expect(orders).toHaveTextContent("Last week 1");
    expect(orders).toHaveTextContent("+4");
    expect(screen.getByTestId("fig-net-revenue")).toHaveTextContent("₹210.00");
    expect(screen.getByTestId("fig-average-prep")).toHaveTextContent("15 min");
    expect(screen.getByTestId("fig-90-ready-within")).toHaveTextContent("22 min");
    expect(screen.getByTestId("fig-average-rating")).toHaveTextContent("4.0 ★");
    // More late tickets than last week is bad news, shown as such.
    expect(within(screen.getByRole("region", { name: "Late tickets" })).getByText("+2")).toHaveClass("figure-down");
    const cancellations = within(screen.getByRole("region", { name: "Cancellations" }));
    expect(cancellations.getByRole("row", { name: /customer class got extended 1/ })).toBeInTheDocument();
    expect(cancellations.getByRole("row", { name: /kitchen out of oil 1/ })).toBeInTheDocument();
    const top = within(screen.getByRole("region", { name: "Top dishes" }));
    expect(top.getByRole("row", { name: /Masala Dosa 3 ₹180.00/ })).toBeInTheDocument();
    expect(screen.getByRole("img", { name: /Orders per 15 minutes/ })).toBeInTheDocument();
  });

  it("reads the figures again when the kitchen stream brings an event, without a reload", async () => {
    let calls = 0;
    server.use(
      http.get(URL, () => {
        calls += 1;
        const f = figures({ ...dashboard().figures, orders: calls === 1 ? 5 : 6 });
        return HttpResponse.json({ data: dashboard({ figures: f }) });
      }),
    );
    renderPage(<DashboardPage />);
    expect(await screen.findByTestId("fig-orders")).toHaveTextContent("5");
    act(() => feedStore.set((s) => ({ ...s, lastSeq: 41, applied: 1 })));
    act(() => feedStore.set((s) => ({ ...s, lastSeq: 42, applied: 2 })));
    expect(
      await screen.findByText("6", { selector: "[data-testid=fig-orders]" }, { timeout: 3000 }),
    ).toBeInTheDocument();
    expect(calls).toBe(2); // a burst of events is read once
  });

  it("says so when there are no orders yet", async () => {
    server.use(
      http.get(URL, () =>
        HttpResponse.json({ data: dashboard({ per_quarter_hour: [], top_dishes: [], cancellations: [] }) }),
      ),
    );
    renderPage(<DashboardPage />);
    expect(await screen.findByText("No orders yet today.")).toBeInTheDocument();
    expect(screen.getByText("Nothing sold yet today.")).toBeInTheDocument();
    expect(screen.getByText("No cancellations today.")).toBeInTheDocument();
  });

  it("shows the API's refusal", async () => {
    server.use(
      http.get(URL, () =>
        HttpResponse.json(apiError("INSUFFICIENT_ROLE", "Your account is not allowed to do this"), { status: 403 }),
      ),
    );
    renderPage(<DashboardPage />);
    expect(await screen.findByText("Your account is not allowed to do this")).toBeInTheDocument();
  });
});

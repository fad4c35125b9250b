import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";

import { apiError, list, order, signInAs } from "@/testing/factories";
import { renderPage } from "@/testing/render";
import { server } from "@/testing/server";

import { NotCollected, refundable } from "./NotCollected";

const API = "http://localhost:3000/api/v1/admin/orders";

const paid = order({
  number: "ORD-20261101-007",
  status: "not_collected",
  payment_method: "upi",
  payment_status: "captured",
  total: 9000,
  allowed_next: [],
});
const cash = order({ number: "ORD-20261101-008", status: "not_collected", allowed_next: [] });

function serve(queries: URLSearchParams[]) {
  server.use(
    http.get(API, ({ request }) => {
      queries.push(new URL(request.url).searchParams);
      return HttpResponse.json(list([paid, cash]));
    }),
  );
}

describe("uncollected orders on the board", () => {
  it("lists today's not-collected orders apart, asking the API for that status alone", async () => {
    signInAs("kitchen");
    const queries: URLSearchParams[] = [];
    serve(queries);
    renderPage(<NotCollected />);
    const section = await screen.findByRole("region", { name: /Not collected/ });
    expect(
      within(section)
        .getAllByRole("listitem")
        .map((li) => li.dataset.orderNumber),
    ).toEqual(["ORD-20261101-007", "ORD-20261101-008"]);
    expect(within(section).getByText(/UPI paid/)).toBeInTheDocument();
    expect(queries.at(0)?.getAll("status")).toEqual(["not_collected"]);
    expect(queries.at(0)?.get("date")).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    // The kitchen sees them; refunds are the admin's.
    expect(within(section).queryByRole("button", { name: /Refund/ })).toBeNull();
  });

  it("shows nothing when every order was collected", async () => {
    signInAs("kitchen");
    let asked = false;
    server.use(
      http.get(API, () => {
        asked = true;
        return HttpResponse.json(list([]));
      }),
    );
    renderPage(<NotCollected />);
    await waitFor(() => expect(asked).toBe(true));
    expect(screen.queryByRole("region", { name: /Not collected/ })).toBeNull();
  });

  it("lets an admin refund a paid one by hand with a reason, and shows a refusal", async () => {
    signInAs("admin");
    serve([]);
    const bodies: unknown[] = [];
    let refuse = true;
    server.use(
      http.post(`${API}/${paid.id}/refund`, async ({ request }) => {
        bodies.push(await request.json());
        if (refuse) {
          refuse = false;
          return HttpResponse.json(
            apiError("ALREADY_REFUNDED", "This order's payment was already refunded (refund processed)"),
            { status: 409 },
          );
        }
        return HttpResponse.json(
          { data: { status: "requested", amount: 9000, reason: "Exam ran late" } },
          { status: 202 },
        );
      }),
    );
    renderPage(<NotCollected />);
    // Only the paid UPI order can be refunded; the cash one owes nothing back.
    expect(refundable(paid)).toBe(true);
    expect(refundable(cash)).toBe(false);
    await userEvent.click(await screen.findByRole("button", { name: "Refund ORD-20261101-007" }));
    expect(screen.queryByRole("button", { name: "Refund ORD-20261101-008" })).toBeNull();
    const dialog = await screen.findByRole("dialog", { name: "Refund ORD-20261101-007?" });
    await userEvent.click(within(dialog).getByRole("button", { name: "Refund" }));
    expect(await within(dialog).findByText("Say why the money is given back.")).toBeInTheDocument();
    expect(bodies).toEqual([]);
    await userEvent.type(within(dialog).getByLabelText("Reason"), "Exam ran late");
    await userEvent.click(within(dialog).getByRole("button", { name: "Refund" }));
    expect(await within(dialog).findByText(/already refunded/)).toBeInTheDocument();
    await userEvent.click(within(dialog).getByRole("button", { name: "Refund" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(bodies).toEqual([{ reason: "Exam ran late" }, { reason: "Exam ran late" }]);
  });
});

import { act, screen, within } from "@testing-library/react";
import { http, HttpResponse } from "msw";

import { list, order, signInAs } from "@/testing/factories";
import { renderPage } from "@/testing/render";
import { server } from "@/testing/server";

import { mergeOrder } from "../hooks/stores";
import { BoardPage } from "./BoardPage";

describe("a customer cancel on the board", () => {
  beforeEach(() => signInAs("kitchen"));

  it("marks the ticket 'Cancelled by customer' in its column, with the reason and no buttons", async () => {
    const placed = order({ id: "a", number: "ORD-20261101-007", status: "confirmed" });
    server.use(http.get("http://localhost:3000/api/v1/admin/orders", () => HttpResponse.json(list([placed]))));
    renderPage(<BoardPage />);
    const heading = await screen.findByRole("heading", { name: /ORD-20261101-007/ });
    act(() =>
      mergeOrder(
        {
          ...placed,
          status: "cancelled",
          cancelled_by: "customer",
          cancel_reason: "Ordered twice",
          allowed_next: [],
          updated_at: new Date(Date.now() + 1000).toISOString(),
        },
        Date.now(),
      ),
    );
    const ticket = heading.closest("li")!;
    expect(await within(ticket).findByRole("alert")).toHaveTextContent("Cancelled by customer");
    expect(ticket).toHaveTextContent("Ordered twice");
    expect(within(ticket).queryAllByRole("button")).toEqual([]);
    const newColumn = screen.getByRole("region", { name: /^New/ });
    expect(within(newColumn).getByRole("heading", { name: /ORD-20261101-007/ })).toBeInTheDocument();
  });
});

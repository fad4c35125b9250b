import { order } from "@/testing/factories";

import { PRINT_ROOT_ID, printTicket, renderTicket } from "./print-ticket";

describe("the kitchen ticket on paper", () => {
  const o = order({
    number: "ORD-20261204-017",
    order_type: "pickup",
    time_slot: "lunch",
    instructions: "less oil <b>please</b>",
    items: [
      { menu_item_id: "m1", name: "Masala Dosa", quantity: 2, notes: "no onion", unit_price: 6000, line_total: 12000 },
      { menu_item_id: "m2", name: "Cutting Chai", quantity: 1, notes: null, unit_price: 1500, line_total: 1500 },
    ] as never,
  });

  it("says the number, the lines with quantities and notes, and nothing of the customer", () => {
    const ticket = renderTicket(o);
    expect(ticket.querySelector(".kot-number")?.textContent).toBe("ORD-20261204-017");
    const lines = [...ticket.querySelectorAll(".kot-line")].map((l) => l.textContent);
    expect(lines).toEqual(["2 × Masala Dosanote: no onion", "1 × Cutting Chai"]);
    expect(ticket.querySelector(".kot-meta")?.textContent).toBe("PICKUP · lunch");
    expect(ticket.querySelector(".kot-time")?.textContent).toMatch(/^Placed \d/);
    // Text, never markup; and no name, phone or pickup code on the kitchen's paper.
    expect(ticket.querySelector("b")).toBeNull();
    expect(ticket.textContent).toContain("less oil <b>please</b>");
    for (const secret of [o.customer.phone, o.customer.name ?? "", o.pickup_code ?? ""].filter(Boolean)) {
      expect(ticket.textContent).not.toContain(secret);
    }
  });

  it("replaces the last ticket in the print container and opens the print dialog", () => {
    const print = vi.spyOn(globalThis, "print").mockImplementation(() => undefined);
    printTicket(o);
    printTicket({ ...o, number: "ORD-20261204-018" });
    const root = document.getElementById(PRINT_ROOT_ID);
    expect(root?.querySelectorAll(".kot")).toHaveLength(1);
    expect(root?.textContent).toContain("ORD-20261204-018");
    expect(print).toHaveBeenCalledTimes(2);
  });
});

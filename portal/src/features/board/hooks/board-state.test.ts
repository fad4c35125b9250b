import { order } from "@/testing/factories";

import { ageLevel, ageSeconds, allDay, applyOrder, applySnapshot, column, emptyBoard } from "./board-state";

const at = (iso: string) => Date.parse(iso);

describe("board state", () => {
  it("orders a column by kitchen window, then by placement", () => {
    const early = order({ id: "early", status: "confirmed", created_at: "2026-11-01T06:10:00Z" });
    const later = order({
      id: "later",
      status: "confirmed",
      created_at: "2026-11-01T06:00:00Z",
      pickup_window_start: "2026-11-01T07:45:00Z",
    });
    const soon = order({
      id: "soon",
      status: "confirmed",
      created_at: "2026-11-01T06:05:00Z",
      pickup_window_start: "2026-11-01T06:30:00Z",
    });
    let board = emptyBoard();
    for (const o of [later, soon, early]) board = applyOrder(board, o);
    expect(column(board, ["confirmed"]).map((o) => o.id)).toEqual(["early", "soon", "later"]);
  });

  it("keeps one ticket per order and the newest copy of it", () => {
    const first = order({ id: "a", status: "confirmed", updated_at: "2026-11-01T06:00:00Z" });
    const newer = { ...first, status: "preparing", updated_at: "2026-11-01T06:01:00Z" };
    let board = applyOrder(emptyBoard(), first);
    board = applyOrder(board, newer);
    board = applyOrder(board, first); // a slow, older answer arrives last
    expect(Object.keys(board.orders)).toEqual(["a"]);
    expect(board.orders.a!.status).toBe("preparing");
  });

  it("removes finished orders and never lets an older copy bring them back", () => {
    const active = order({ id: "a", updated_at: "2026-11-01T06:00:00Z" });
    let board = applyOrder(emptyBoard(), active);
    board = applyOrder(board, { ...active, status: "completed", updated_at: "2026-11-01T06:05:00Z" });
    expect(board.orders).toEqual({});
    board = applyOrder(board, active);
    expect(board.orders).toEqual({});
    const { board: after, missing } = applySnapshot(board, [active], Date.now());
    expect(after.orders).toEqual({});
    expect(missing).toEqual([]);
  });

  it("reports tickets a snapshot no longer lists, for the caller to check", () => {
    const a = order({ id: "a" });
    const b = order({ id: "b" });
    const board = applyOrder(applyOrder(emptyBoard(), a), b);
    const { missing } = applySnapshot(board, [a], Date.now());
    expect(missing).toEqual(["b"]);
  });

  it("measures ages on the server's clock, whatever the tablet's clock says", () => {
    const created = "2026-11-01T06:00:00Z";
    // The server said the order was 120 s old when the answer arrived; this device is 1 h behind.
    const answeredAt = at(created) + 120_000 - 3_600_000;
    const board = applyOrder(emptyBoard(), order({ id: "a", created_at: created, age_seconds: 120 }), answeredAt);
    expect(ageSeconds(board.orders.a!, board, answeredAt + 30_000)).toBeCloseTo(150);
  });

  it("colours a ticket by how long it has waited and by its promised time", () => {
    const created = "2026-11-01T06:00:00Z";
    const board = emptyBoard();
    const o = order({ created_at: created, age_seconds: 0 });
    expect(ageLevel(o, board, at(created) + 60_000)).toBe("ok");
    expect(ageLevel(o, board, at(created) + 5 * 60_000)).toBe("warn");
    expect(ageLevel(o, board, at(created) + 10 * 60_000)).toBe("late");
    const promised = { ...o, estimated_ready_at: "2026-11-01T06:04:00Z" };
    expect(ageLevel(promised, board, at(created) + 60_000)).toBe("ok");
    expect(ageLevel(promised, board, at(created) + 3 * 60_000)).toBe("warn");
    expect(ageLevel(promised, board, at(created) + 4 * 60_000 + 1)).toBe("late");
    // A ready order is judged by its age only.
    expect(ageLevel({ ...promised, status: "ready" }, board, at(created) + 4 * 60_000 + 1)).toBe("ok");
  });

  it("sorts a column oldest first", () => {
    const older = order({ id: "old", created_at: "2026-11-01T06:00:00Z" });
    const newer = order({ id: "new", created_at: "2026-11-01T06:03:00Z" });
    const board = applyOrder(applyOrder(emptyBoard(), newer), older);
    expect(column(board, ["confirmed"]).map((o) => o.id)).toEqual(["old", "new"]);
  });

  it("counts the portions waiting to be made (all day), unpaid ones apart", () => {
    const line = (id: string, name: string, quantity: number) => ({
      menu_item_id: id,
      name,
      unit_price: 100,
      quantity,
      line_total: 100 * quantity,
      notes: null,
    });
    let board = emptyBoard();
    board = applyOrder(
      board,
      order({ id: "1", status: "confirmed", items: [line("dosa", "Masala Dosa", 2), line("chai", "Chai", 1)] }),
    );
    board = applyOrder(board, order({ id: "2", status: "preparing", items: [line("dosa", "Masala Dosa", 1)] }));
    board = applyOrder(board, order({ id: "3", status: "received", items: [line("chai", "Chai", 4)] }));
    board = applyOrder(board, order({ id: "4", status: "ready", items: [line("dosa", "Masala Dosa", 5)] }));
    expect(allDay(board)).toEqual([
      { menuItemId: "dosa", name: "Masala Dosa", toMake: 3, awaitingPayment: 0, options: [] },
      { menuItemId: "chai", name: "Chai", toMake: 1, awaitingPayment: 4, options: [] },
    ]);
  });

  it("counts the options of the portions to make: 4 Dosa · 3 Masala · 1 Cheese", () => {
    const option = (name: string) => ({ id: name, group: "Filling", name, price_delta: 0 });
    const line = (quantity: number, ...options: string[]) => ({
      menu_item_id: "dosa",
      name: "Dosa",
      unit_price: 100,
      quantity,
      line_total: 100 * quantity,
      notes: null,
      options: options.map(option),
    });
    let board = emptyBoard();
    board = applyOrder(board, order({ id: "1", status: "confirmed", items: [line(2, "Masala"), line(1, "Cheese")] }));
    board = applyOrder(board, order({ id: "2", status: "preparing", items: [line(1, "Masala", "Butter")] }));
    // Unpaid orders are not being made: their options are not counted.
    board = applyOrder(board, order({ id: "3", status: "received", items: [line(5, "Cheese")] }));
    expect(allDay(board)).toEqual([
      {
        menuItemId: "dosa",
        name: "Dosa",
        toMake: 4,
        awaitingPayment: 5,
        options: [
          { name: "Masala", count: 3 },
          { name: "Butter", count: 1 },
          { name: "Cheese", count: 1 },
        ],
      },
    ]);
  });
});

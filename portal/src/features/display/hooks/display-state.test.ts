import { applyDisplayEvent, columns, fromSnapshot, shortNumber } from "./display-state";

const snapshot = {
  last_event_id: 7,
  preparing: [{ order_id: "a", order_number: "ORD-20261204-002", status: "preparing" as const }],
  ready: [{ order_id: "b", order_number: "ORD-20261204-001", status: "ready" as const }],
};

describe("the display's state", () => {
  it("starts from the snapshot in two columns", () => {
    const { preparing, ready } = columns(fromSnapshot(snapshot));
    expect(preparing.map((o) => o.number)).toEqual(["ORD-20261204-002"]);
    expect(ready.map((o) => [o.number, o.readyAt])).toEqual([["ORD-20261204-001", 0]]);
  });

  it("moves a number to Ready with a chime once, and takes it off after handover or cancel", () => {
    let state = fromSnapshot(snapshot);
    const placed = applyDisplayEvent(
      state,
      { order_id: "c", order_number: "ORD-20261204-003", status: "confirmed" },
      1,
    );
    expect(placed.turnedReady).toBe(false);
    state = placed.state;
    const ready = applyDisplayEvent(state, { order_id: "a", order_number: "ORD-20261204-002", status: "ready" }, 50);
    expect(ready.turnedReady).toBe(true);
    expect(ready.state.a).toMatchObject({ status: "ready", readyAt: 50 });
    // The same event again (a replay): no second chime, the highlight keeps its time.
    const again = applyDisplayEvent(ready.state, { order_id: "a", status: "ready" }, 90);
    expect(again.turnedReady).toBe(false);
    expect(again.state.a?.readyAt).toBe(50);
    const cols = columns(again.state);
    expect(cols.ready.map((o) => o.id)).toEqual(["a", "b"]); // the newest ready first
    expect(cols.preparing.map((o) => o.id)).toEqual(["c"]);
    const handedOver = applyDisplayEvent(again.state, { order_id: "a", status: "completed" }, 100).state;
    const cancelled = applyDisplayEvent(handedOver, { order_id: "c", status: "cancelled" }, 100).state;
    expect(Object.keys(cancelled)).toEqual(["b"]);
    // An order the display never showed that leaves: nothing changes.
    expect(applyDisplayEvent(cancelled, { order_id: "z", status: "cancelled" }, 100).state).toBe(cancelled);
  });

  it("shows the day's sequence large", () => {
    expect(shortNumber("ORD-20261204-012")).toBe("012");
    expect(shortNumber("X-1")).toBe("X-1");
  });
});

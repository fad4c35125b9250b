import { describe, expect, it } from "vitest";

import { paymentLabel } from "./status";

describe("paymentLabel", () => {
  it("says what is due on a live order", () => {
    expect(paymentLabel("cash_due", "confirmed")).toBe("Cash due");
    expect(paymentLabel("captured", "preparing")).toBe("UPI paid");
  });

  it("never says cash is due on a cancelled order", () => {
    expect(paymentLabel("cash_due", "cancelled")).toBe("Not paid (cancelled)");
    expect(paymentLabel("pending", "cancelled")).toBe("Not paid (cancelled)");
    expect(paymentLabel("refunded", "cancelled")).toBe("Refunded");
    expect(paymentLabel("captured", "cancelled")).toBe("UPI paid");
  });
});

import { formatPaise, paiseToRupeeInput, parseRupees } from "./money";

describe("money in paise", () => {
  it("shows rupees with two decimals", () => {
    expect(formatPaise(4550)).toBe("₹45.50");
    expect(formatPaise(100000)).toBe("₹1,000.00");
    expect(formatPaise(0)).toBe("₹0.00");
  });

  it("parses what people type into paise, exactly", () => {
    expect(parseRupees("45")).toBe(4500);
    expect(parseRupees("45.5")).toBe(4550);
    expect(parseRupees("45.05")).toBe(4505);
    expect(parseRupees(" ₹1,045.50 ")).toBe(104550);
    expect(parseRupees("0.1")).toBe(10);
    // 0.29 * 100 is 28.999… in floating point; the parser never goes through floats.
    expect(parseRupees("0.29")).toBe(29);
  });

  it("refuses anything that is not a plain amount", () => {
    for (const bad of ["", "abc", "1.234", "-5", "1e3", "4 5", "."]) expect(parseRupees(bad)).toBeNull();
  });

  it("round-trips through the input format", () => {
    expect(paiseToRupeeInput(4505)).toBe("45.05");
    expect(parseRupees(paiseToRupeeInput(123456))).toBe(123456);
  });
});

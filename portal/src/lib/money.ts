/** Money is integer paise everywhere; only the display is in rupees. */
const formatter = new Intl.NumberFormat("en-IN", {
  style: "currency",
  currency: "INR",
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});

export function formatPaise(paise: number): string {
  return formatter.format(paise / 100);
}

/** Paise as the rupee text a price field shows: 4550 → "45.50". */
export function paiseToRupeeInput(paise: number): string {
  return (paise / 100).toFixed(2);
}

/**
 * Parse what a person typed into a rupee field ("45", "45.5", "₹ 1,045.50") into paise.
 * Returns null for anything that is not a plain amount with at most two decimals.
 */
export function parseRupees(text: string): number | null {
  const cleaned = text.trim().replace(/^₹\s*/, "").replace(/,/g, "");
  if (!/^\d+(\.\d{1,2})?$/.test(cleaned)) return null;
  const [whole = "0", fraction = ""] = cleaned.split(".");
  const paise = Number(whole) * 100 + Number(fraction.padEnd(2, "0"));
  return Number.isSafeInteger(paise) ? paise : null;
}

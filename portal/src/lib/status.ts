/** Labels for the order lifecycle (product.md, "Order lifecycle"). */
export const STATUS_LABEL: Record<string, string> = {
  received: "Awaiting payment",
  confirmed: "New",
  preparing: "Preparing",
  ready: "Ready",
  out_for_delivery: "Out for delivery",
  completed: "Completed",
  cancelled: "Cancelled",
  not_collected: "Not collected",
};

export const ALL_STATUSES = [
  "received",
  "confirmed",
  "preparing",
  "ready",
  "out_for_delivery",
  "completed",
  "cancelled",
  "not_collected",
] as const;

export const ACTIVE_STATUSES = ["received", "confirmed", "preparing", "ready", "out_for_delivery"] as const;

export const TERMINAL_STATUSES = new Set(["completed", "cancelled", "not_collected"]);

export const PAYMENT_LABEL: Record<string, string> = {
  pending: "UPI unpaid",
  captured: "UPI paid",
  failed: "UPI failed",
  refunded: "Refunded",
  cash_due: "Cash due",
  paid: "Cash paid",
};

export function statusLabel(status: string): string {
  return STATUS_LABEL[status] ?? status.replace(/_/g, " ");
}

/** The payment column's words. A cancelled order owes nothing: no "Cash due" there. */
export function paymentLabel(status: string, orderStatus?: string): string {
  if (orderStatus === "cancelled" && (status === "cash_due" || status === "pending" || status === "failed")) {
    return "Not paid (cancelled)";
  }
  return PAYMENT_LABEL[status] ?? status.replace(/_/g, " ");
}

/** An unpaid UPI order: shown, flagged, never startable. */
export function awaitingPayment(order: { payment_method: string; payment_status: string }): boolean {
  return order.payment_method === "upi" && order.payment_status !== "captured" && order.payment_status !== "refunded";
}

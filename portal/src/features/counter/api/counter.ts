import { api, data, unwrap } from "@/lib/api";
import type { KitchenOrder, KitchenOrderDetail } from "@/lib/api-types";

/** Ready pickup orders with this code (usually one; two orders may share a code). 404 otherwise. */
export async function findByPickupCode(code: string): Promise<KitchenOrder[]> {
  return data(api.GET("/api/v1/admin/orders/by-pickup-code/{code}", { params: { path: { code } } }));
}

/** Every ready pickup order, oldest first: the queue at the counter. */
export async function fetchReadyPickups(): Promise<KitchenOrder[]> {
  const body = await unwrap(
    api.GET("/api/v1/admin/orders", {
      params: { query: { status: ["ready"], order_type: "pickup", per_page: 100 } },
    }),
  );
  return [...body.data].sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at));
}

export async function handOver(orderId: string, pickupCode: string): Promise<KitchenOrderDetail> {
  return data(
    api.POST("/api/v1/admin/orders/{order_id}/handover", {
      params: { path: { order_id: orderId } },
      body: { pickup_code: pickupCode },
    }),
  );
}

/** What a cash order still asks of the counter or the door; null when nothing is due. */
export function cashDue(order: KitchenOrder): number | null {
  return order.payment_method === "cash" && order.payment_status === "cash_due" ? order.total : null;
}

/** The pickup code inside what a QR code says (the app encodes the 4 digits), or null. */
export function codeFromScan(text: string): string | null {
  const found = text.trim().match(/(?:^|\D)(\d{4})$/);
  return found ? (found[1] ?? null) : null;
}

import { api, data, unwrap } from "@/lib/api";
import type { KitchenOrder } from "@/lib/api-types";

/** The signed-in delivery staff member's active orders (the API shows no one else's). */
export async function fetchMyDeliveries(): Promise<KitchenOrder[]> {
  const body = await unwrap(api.GET("/api/v1/delivery/orders", { params: { query: { per_page: 100 } } }));
  return [...body.data].sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at));
}

export async function pickedUp(orderId: string): Promise<KitchenOrder> {
  return data(
    api.PATCH("/api/v1/delivery/orders/{order_id}/status", {
      params: { path: { order_id: orderId } },
      body: { status: "out_for_delivery" },
    }),
  );
}

/** Delivered, proved by the code the customer says at the door. */
export async function delivered(orderId: string, pickupCode: string): Promise<KitchenOrder> {
  return data(
    api.PATCH("/api/v1/delivery/orders/{order_id}/status", {
      params: { path: { order_id: orderId } },
      body: { status: "completed", pickup_code: pickupCode },
    }),
  );
}

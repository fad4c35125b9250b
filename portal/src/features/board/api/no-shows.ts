import { api, data, unwrap } from "@/lib/api";
import type { KitchenOrder } from "@/lib/api-types";
import { canteenToday } from "@/lib/time";

/** Under ["orders", …]: every order event from the kitchen stream refreshes it. */
export const notCollectedKey = ["orders", "not-collected"] as const;

/** Today's pickup orders that were ready and never collected (the no-show sweep), newest
 * first; the board shows up to 50. */
export async function fetchNotCollected(): Promise<KitchenOrder[]> {
  const body = await unwrap(
    api.GET("/api/v1/admin/orders", {
      params: { query: { status: ["not_collected"], date: canteenToday(), per_page: 50 } },
    }),
  );
  return body.data.filter((o) => o.status === "not_collected");
}

/** Give a paid order's money back by hand (admins); the reason is kept with the refund. */
export async function refundByHand(orderId: string, reason: string) {
  return data(
    api.POST("/api/v1/admin/orders/{order_id}/refund", {
      params: { path: { order_id: orderId } },
      body: { reason },
    }),
  );
}

import { api, data } from "@/lib/api";

/** Put back a mistaken kitchen move (kitchen staff and admins, within 5 minutes). */
export async function recallOrder(orderId: string, reason: string) {
  return data(
    api.POST("/api/v1/admin/orders/{order_id}/recall", {
      params: { path: { order_id: orderId } },
      body: { reason },
    }),
  );
}

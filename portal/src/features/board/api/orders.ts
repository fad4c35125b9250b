import { api, data, unwrap } from "@/lib/api";
import type { KitchenOrder, KitchenOrderDetail, StaffTarget, UserOut } from "@/lib/api-types";
import { ACTIVE_STATUSES } from "@/lib/status";

const PER_PAGE = 100;

/** Every active order (all pages), and when the answer arrived (for the clock offset). */
export async function fetchActiveOrders(): Promise<{ orders: KitchenOrder[]; answeredAt: number }> {
  const orders: KitchenOrder[] = [];
  for (let page = 1; ; page += 1) {
    const body = await unwrap(
      api.GET("/api/v1/admin/orders", {
        params: { query: { status: [...ACTIVE_STATUSES], page, per_page: PER_PAGE } },
      }),
    );
    orders.push(...body.data);
    if (body.data.length < PER_PAGE || page * PER_PAGE >= body.meta.total) break;
  }
  return { orders, answeredAt: Date.now() };
}

export async function fetchOrder(orderId: string): Promise<KitchenOrderDetail> {
  return data(api.GET("/api/v1/admin/orders/{order_id}", { params: { path: { order_id: orderId } } }));
}

export async function changeStatus(
  orderId: string,
  status: StaffTarget,
  extra: { reason?: string; pickup_code?: string } = {},
): Promise<KitchenOrderDetail> {
  return data(
    api.PATCH("/api/v1/admin/orders/{order_id}/status", {
      params: { path: { order_id: orderId } },
      body: { status, ...extra },
    }),
  );
}

export async function handover(orderId: string, pickupCode: string): Promise<KitchenOrderDetail> {
  return data(
    api.POST("/api/v1/admin/orders/{order_id}/handover", {
      params: { path: { order_id: orderId } },
      body: { pickup_code: pickupCode },
    }),
  );
}

export async function assignDelivery(orderId: string, staffId: string): Promise<KitchenOrderDetail> {
  return data(
    api.POST("/api/v1/admin/orders/{order_id}/assign-delivery", {
      params: { path: { order_id: orderId } },
      body: { staff_id: staffId },
    }),
  );
}

/** Active delivery staff (GET /admin/staff is admin-only in the API). */
export async function fetchDeliveryStaff(): Promise<UserOut[]> {
  const body = await data(api.GET("/api/v1/admin/staff", { params: { query: { per_page: 100 } } }));
  return body.filter((u) => u.role === "delivery" && u.is_active);
}

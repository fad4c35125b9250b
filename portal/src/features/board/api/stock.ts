import { api, data } from "@/lib/api";
import type { MenuItem } from "@/lib/api-types";

/** A dish as students see it (the public menu answers the kitchen too). */
export async function fetchDish(itemId: string): Promise<MenuItem> {
  return data(
    api.GET("/api/v1/menu/items/{item_id}", {
      params: { path: { item_id: itemId } },
      headers: { "Cache-Control": "no-cache" },
    }),
  );
}

/** 86 a dish, or put it back on (kitchen and admins). */
export async function setDishAvailable(itemId: string, isAvailable: boolean): Promise<MenuItem> {
  return data(
    api.PATCH("/api/v1/admin/menu/items/{item_id}/availability", {
      params: { path: { item_id: itemId } },
      body: { is_available: isAvailable },
    }),
  );
}

/** Portions left today (0 = sold out, null = no count today). */
export async function setPortionsLeft(itemId: string, left: number | null): Promise<MenuItem> {
  return data(
    api.PATCH("/api/v1/admin/menu/items/{item_id}/stock", {
      params: { path: { item_id: itemId } },
      body: { stock_remaining: left },
    }),
  );
}

import { api, data } from "@/lib/api";
import type { KitchenCapacity, KitchenCapacityUpdate } from "@/lib/api-types";

export async function fetchCapacity(): Promise<KitchenCapacity> {
  return data(api.GET("/api/v1/admin/kitchen/capacity"));
}

export async function setCapacity(body: KitchenCapacityUpdate): Promise<KitchenCapacity> {
  return data(api.PUT("/api/v1/admin/kitchen/capacity", { body }));
}

import { api, data, unwrap } from "@/lib/api";
import type { CanteenConfig, ConfigUpdate, TimeSlot, TimeSlotCreate, TimeSlotUpdate } from "@/lib/api-types";

export async function fetchConfig(): Promise<CanteenConfig> {
  return data(api.GET("/api/v1/admin/config"));
}

export async function updateConfig(body: ConfigUpdate): Promise<CanteenConfig> {
  return data(api.PATCH("/api/v1/admin/config", { body }));
}

export async function createSlot(body: TimeSlotCreate): Promise<TimeSlot> {
  return data(api.POST("/api/v1/admin/time-slots", { body }));
}

export async function updateSlot(slotId: string, body: TimeSlotUpdate): Promise<TimeSlot> {
  return data(api.PATCH("/api/v1/admin/time-slots/{slot_id}", { params: { path: { slot_id: slotId } }, body }));
}

export async function deleteSlot(slotId: string): Promise<void> {
  await unwrap(api.DELETE("/api/v1/admin/time-slots/{slot_id}", { params: { path: { slot_id: slotId } } }));
}

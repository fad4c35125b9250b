import { api, data, unwrap } from "@/lib/api";
import type { StaffCreate, StaffUpdate, UserOut } from "@/lib/api-types";

/** Every staff account (the API pages by 100). */
export async function fetchStaff(): Promise<UserOut[]> {
  const all: UserOut[] = [];
  for (let page = 1; ; page += 1) {
    const body = await unwrap(api.GET("/api/v1/admin/staff", { params: { query: { page, per_page: 100 } } }));
    all.push(...body.data);
    if (body.data.length < 100 || page * 100 >= body.meta.total) return all;
  }
}

export async function createStaff(body: StaffCreate): Promise<UserOut> {
  return data(api.POST("/api/v1/admin/staff", { body }));
}

export async function updateStaff(staffId: string, body: StaffUpdate): Promise<UserOut> {
  return data(api.PATCH("/api/v1/admin/staff/{staff_id}", { params: { path: { staff_id: staffId } }, body }));
}

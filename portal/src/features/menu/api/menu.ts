import { api, apiErrorFrom, data, unwrap } from "@/lib/api";
import type {
  Category,
  CategoryCreate,
  CategoryUpdate,
  MenuItem,
  MenuItemCreate,
  MenuItemUpdate,
  TimeSlot,
} from "@/lib/api-types";

/** Admins read the full menu (inactive categories too); the kitchen reads the public one. */
export type MenuScope = "admin" | "kitchen";

export async function fetchCategories(scope: MenuScope): Promise<Category[]> {
  if (scope === "admin") return data(api.GET("/api/v1/admin/menu/categories"));
  return data(api.GET("/api/v1/menu/categories", { headers: { "Cache-Control": "no-cache" } }));
}

export async function fetchItems(scope: MenuScope): Promise<MenuItem[]> {
  if (scope === "admin") {
    return data(api.GET("/api/v1/admin/menu/items", { params: { query: { per_page: 500 } } }));
  }
  const body = await unwrap(api.GET("/api/v1/menu/items", { headers: { "Cache-Control": "no-cache" } }));
  return body.data;
}

export async function fetchItem(itemId: string): Promise<MenuItem> {
  return data(api.GET("/api/v1/admin/menu/items/{item_id}", { params: { path: { item_id: itemId } } }));
}

export async function createItem(body: MenuItemCreate): Promise<MenuItem> {
  return data(api.POST("/api/v1/admin/menu/items", { body }));
}

export async function updateItem(itemId: string, body: MenuItemUpdate): Promise<MenuItem> {
  return data(api.PATCH("/api/v1/admin/menu/items/{item_id}", { params: { path: { item_id: itemId } }, body }));
}

export async function deleteItem(itemId: string): Promise<void> {
  await unwrap(api.DELETE("/api/v1/admin/menu/items/{item_id}", { params: { path: { item_id: itemId } } }));
}

export async function setAvailability(itemId: string, isAvailable: boolean): Promise<MenuItem> {
  return data(
    api.PATCH("/api/v1/admin/menu/items/{item_id}/availability", {
      params: { path: { item_id: itemId } },
      body: { is_available: isAvailable },
    }),
  );
}

export async function uploadImage(itemId: string, file: File): Promise<MenuItem> {
  const form = new FormData();
  form.append("file", file, file.name);
  const result = await api.POST("/api/v1/admin/menu/items/{item_id}/image", {
    params: { path: { item_id: itemId } },
    // multipart: the browser sets the boundary
    body: form as unknown as never,
    bodySerializer: (body) => body as unknown as FormData,
  });
  if (!result.response.ok) throw apiErrorFrom(result.response, result.error);
  return (result.data as { data: MenuItem }).data;
}

export async function removeImage(itemId: string): Promise<MenuItem> {
  return data(api.DELETE("/api/v1/admin/menu/items/{item_id}/image", { params: { path: { item_id: itemId } } }));
}

export async function createCategory(body: CategoryCreate): Promise<Category> {
  return data(api.POST("/api/v1/admin/menu/categories", { body }));
}

export async function updateCategory(categoryId: string, body: CategoryUpdate): Promise<Category> {
  return data(
    api.PATCH("/api/v1/admin/menu/categories/{category_id}", {
      params: { path: { category_id: categoryId } },
      body,
    }),
  );
}

export async function deleteCategory(categoryId: string): Promise<void> {
  await unwrap(
    api.DELETE("/api/v1/admin/menu/categories/{category_id}", { params: { path: { category_id: categoryId } } }),
  );
}

export async function fetchTimeSlots(): Promise<TimeSlot[]> {
  return data(api.GET("/api/v1/admin/time-slots"));
}

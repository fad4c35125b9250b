import { api, unwrap } from "@/lib/api";
import type { paths } from "@/lib/api-schema";
import type { KitchenOrder, OrderStatus, PageMeta } from "@/lib/api-types";

type Query = NonNullable<paths["/api/v1/admin/orders"]["get"]["parameters"]["query"]>;

export interface OrderFilters {
  q: string;
  status: string;
  date: string;
  order_type: string;
  page: number;
}

export const PER_PAGE = 25;

export async function searchOrders(filters: OrderFilters): Promise<{ data: KitchenOrder[]; meta: PageMeta }> {
  const query: Query = { page: filters.page, per_page: PER_PAGE };
  if (filters.q.trim()) query.q = filters.q.trim();
  if (filters.status) query.status = [filters.status as OrderStatus];
  if (filters.date) query.date = filters.date;
  if (filters.order_type === "pickup" || filters.order_type === "delivery") query.order_type = filters.order_type;
  return unwrap(api.GET("/api/v1/admin/orders", { params: { query } }));
}

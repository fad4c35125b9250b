/** Test data shaped exactly like the API's (typed from the generated contract). */
import type { KitchenOrder, KitchenOrderDetail, MenuItem, UserOut } from "@/lib/api-types";
import { session } from "@/lib/session";

let n = 0;
const uuid = () => {
  n += 1;
  return `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
};

export function user(overrides: Partial<UserOut> = {}): UserOut {
  return {
    id: uuid(),
    phone: "+919000000002",
    name: "Ravi (kitchen)",
    email: null,
    role: "kitchen",
    is_active: true,
    created_at: "2026-11-01T04:00:00Z",
    ...overrides,
  };
}

export function signInAs(role: UserOut["role"] = "kitchen", overrides: Partial<UserOut> = {}): UserOut {
  const u = user({ role, name: role === "admin" ? "Meera (manager)" : "Ravi (kitchen)", ...overrides });
  session.set({
    accessToken: `access-${role}`,
    refreshToken: `refresh-${role}-0123456789`,
    accessExpiresAt: Date.now() + 3_600_000,
    user: u,
  });
  return u;
}

export function order(overrides: Partial<KitchenOrder> = {}): KitchenOrder {
  const id = overrides.id ?? uuid();
  const created = overrides.created_at ?? new Date(Date.now() - 60_000).toISOString();
  return {
    id,
    number: `ORD-20261101-${String(n).padStart(3, "0")}`,
    status: "confirmed",
    payment_method: "cash",
    payment_status: "cash_due",
    order_type: "pickup",
    delivery_address: null,
    time_slot: "lunch",
    instructions: null,
    items: [
      { menu_item_id: "item-dosa", name: "Masala Dosa", unit_price: 6000, quantity: 2, line_total: 12000, notes: null },
    ],
    subtotal: 12000,
    delivery_fee: 0,
    total: 12000,
    currency: "INR",
    pickup_code: "****",
    estimated_ready_at: null,
    cancel_reason: null,
    delivery_staff_id: null,
    feedback: null,
    payment: null,
    created_at: created,
    updated_at: overrides.updated_at ?? created,
    customer: { id: "cust-1", name: "Priya", phone: "+919876543210" },
    allowed_next: ["preparing", "cancelled"],
    age_seconds: Math.round((Date.now() - Date.parse(created)) / 1000),
    ...overrides,
  };
}

export function detail(o: KitchenOrder, events: KitchenOrderDetail["events"] = []): KitchenOrderDetail {
  return { ...o, events };
}

export function menuItem(overrides: Partial<MenuItem> = {}): MenuItem {
  return {
    id: uuid(),
    category_id: "cat-1",
    name: "Masala Dosa",
    description: "Crisp dosa with potato masala",
    price: 6000,
    diet: "veg",
    allergens: [],
    image_url: null,
    thumbnail_url: null,
    is_available: true,
    sold_out: false,
    stock_remaining: null,
    daily_stock: null,
    time_slots: ["breakfast", "lunch"],
    prep_minutes: 10,
    sort_order: 0,
    ...overrides,
  };
}

export function envelope<T>(data: T) {
  return { data };
}

export function list<T>(data: T[], page = 1, per_page = 100) {
  return { data, meta: { page, per_page, total: data.length } };
}

export function apiError(code: string, message: string, details: Record<string, unknown>[] = []) {
  return { error: { code, message, details } };
}

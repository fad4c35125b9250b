/** The tests' own calls to the backend (directly, never through the relay). */
import { createHmac, randomUUID } from "node:crypto";

import { DEMO, e2eEnv } from "./env";

export interface SessionTokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  user: { id: string; role: string; name: string | null; phone: string };
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`API ${status}: ${JSON.stringify(body)}`);
  }
}

export async function call<T = unknown>(
  method: string,
  path: string,
  { token, body, headers = {} }: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<T> {
  const response = await fetch(`${e2eEnv().apiURL}/api/v1${path}`, {
    method,
    headers: {
      ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const parsed = text ? (JSON.parse(text) as unknown) : null;
  if (!response.ok) throw new ApiFailure(response.status, parsed);
  return (parsed as { data: T } | null)?.data as T;
}

export async function staffSession(role: keyof typeof DEMO): Promise<SessionTokens> {
  const { phone, password } = DEMO[role];
  return call<SessionTokens>("POST", "/auth/staff-login", { body: { phone, password } });
}

/** The code the console SMS provider "sent" to `phone` (dev outbox, newest first). */
export async function latestOtp(phone: string): Promise<string> {
  for (let attempt = 0; attempt < 40; attempt += 1) {
    const messages = await call<{ body: string }[]>(
      "GET",
      `/dev/outbox?channel=sms&to=${encodeURIComponent(phone)}&limit=1`,
    );
    const code = messages[0]?.body.match(/\b(\d{6})\b/)?.[1];
    if (code) return code;
    await new Promise((r) => setTimeout(r, 100)); // the SMS job runs after the commit
  }
  throw new Error(`no OTP in the outbox for ${phone}`);
}

let customerCounter = 0;

/** A new customer (their own phone number each time), signed in by OTP. */
export async function customerSession(): Promise<SessionTokens & { phone: string }> {
  customerCounter += 1;
  const phone = `+9198${String(Date.now() % 1_000_000).padStart(6, "0")}${String(customerCounter % 100).padStart(2, "0")}`;
  await call("POST", "/auth/request-otp", { body: { phone } });
  const otp = await latestOtp(phone);
  const session = await call<SessionTokens>("POST", "/auth/verify-otp", { body: { phone, otp } });
  await call("PATCH", "/users/me", { token: session.access_token, body: { name: `Student ${customerCounter}` } });
  return { ...session, phone };
}

export interface MenuItemOut {
  id: string;
  name: string;
  price: number;
  time_slots: string[];
  is_available: boolean;
  sold_out: boolean;
}

export async function menuItem(name: string): Promise<MenuItemOut> {
  const items = await call<MenuItemOut[]>("GET", "/menu/items?per_page=500");
  const item = items.find((i) => i.name === name);
  if (!item) throw new Error(`no menu item called ${name}`);
  return item;
}

export interface PlacedOrder {
  id: string;
  number: string;
  status: string;
  payment_status: string;
  pickup_code: string;
  total: number;
}

export async function placeOrder(
  token: string,
  lines: { item: MenuItemOut; quantity: number; notes?: string }[],
  options: {
    order_type?: "pickup" | "delivery";
    payment_method?: "cash" | "upi";
    delivery_address?: string;
    instructions?: string;
    /** Use this slot when every item is sold in it. */
    prefer_slot?: string;
  } = {},
): Promise<PlacedOrder> {
  // A slot every ordered item is sold in, so the tests pass at any time of day.
  const slot = lines.map((l) => new Set(l.item.time_slots)).reduce((a, b) => new Set([...a].filter((s) => b.has(s))));
  const time_slot = options.prefer_slot && slot.has(options.prefer_slot) ? options.prefer_slot : [...slot][0];
  if (!time_slot) throw new Error("the items share no time slot");
  return call<PlacedOrder>("POST", "/orders", {
    token,
    headers: { "X-Idempotency-Key": randomUUID() },
    body: {
      items: lines.map((l) => ({
        menu_item_id: l.item.id,
        quantity: l.quantity,
        ...(l.notes ? { notes: l.notes } : {}),
      })),
      order_type: options.order_type ?? "pickup",
      payment_method: options.payment_method ?? "cash",
      time_slot,
      ...(options.delivery_address ? { delivery_address: options.delivery_address } : {}),
      ...(options.instructions ? { instructions: options.instructions } : {}),
    },
  });
}

function b64url(value: string | Buffer): string {
  return Buffer.from(value).toString("base64url");
}

/** A correctly signed access token that expired a minute ago (the e2e server's own key). */
export function expiredAccessToken(user: { id: string; role: string }): string {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: "HS256", typ: "at+jwt" }));
  const payload = b64url(
    JSON.stringify({
      iss: "canteen",
      aud: "canteen-api",
      sub: user.id,
      role: user.role,
      iat: now - 3700,
      exp: now - 60,
      jti: randomUUID().replace(/-/g, ""),
    }),
  );
  const signature = createHmac("sha256", e2eEnv().secretKey).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${signature}`;
}

export async function relay(action: "cut" | "restore"): Promise<void> {
  const response = await fetch(`${e2eEnv().relayURL}/${action}`, { method: "POST" });
  if (!response.ok) throw new Error(`relay ${action} failed`);
}

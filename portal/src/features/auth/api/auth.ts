import { api, apiUrl, data } from "@/lib/api";
import type { Session } from "@/lib/api-types";
import { session } from "@/lib/session";

// Delivery staff sign in too, to their own screen (/deliveries, issue 17).
export const STAFF_ROLES = new Set(["kitchen", "admin", "delivery"]);

export class NotStaffError extends Error {
  constructor() {
    super("This portal is for canteen staff. Customers use the app.");
    this.name = "NotStaffError";
  }
}

/** Keep the session if it belongs to staff (kitchen, admin, delivery); otherwise revoke it. */
async function start(result: Session): Promise<Session> {
  if (!STAFF_ROLES.has(result.user.role)) {
    await api.POST("/api/v1/auth/logout", { body: { refresh_token: result.refresh_token } }).catch(() => undefined);
    throw new NotStaffError();
  }
  session.set({
    accessToken: result.access_token,
    refreshToken: result.refresh_token,
    accessExpiresAt: Date.now() + result.expires_in * 1000,
    user: result.user,
  });
  return result;
}

export async function staffLogin(phone: string, password: string): Promise<Session> {
  return start(await data(api.POST("/api/v1/auth/staff-login", { body: { phone, password } })));
}

export async function requestOtp(phone: string): Promise<{ expires_in: number; resend_after: number }> {
  return data(api.POST("/api/v1/auth/request-otp", { body: { phone } }));
}

export async function verifyOtp(phone: string, otp: string): Promise<Session> {
  return start(await data(api.POST("/api/v1/auth/verify-otp", { body: { phone, otp } })));
}

export async function signOut(): Promise<void> {
  const current = session.get();
  session.clear("signed_out");
  if (current) {
    // Revoke the refresh token's family; signing out here must not wait for the network.
    await fetch(apiUrl("/api/v1/auth/logout"), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: current.refreshToken }),
      keepalive: true,
    }).catch(() => undefined);
  }
}

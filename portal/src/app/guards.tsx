import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router";

import { useSession } from "@/features/auth/hooks/use-session";

function useSignInRedirect() {
  const location = useLocation();
  return `/login?next=${encodeURIComponent(`${location.pathname}${location.search}`)}`;
}

/** Signed-in kitchen or admin staff only; delivery staff go to their own screen, everyone
 * else to the sign-in page. */
export function RequireStaff({ children }: { children: ReactNode }) {
  const current = useSession();
  const signIn = useSignInRedirect();
  if (!current) return <Navigate to={signIn} replace />;
  if (current.user.role === "delivery") return <Navigate to="/deliveries" replace />;
  return <>{children}</>;
}

/** Delivery staff only: the one part of the portal open to them (issue 17). */
export function RequireDelivery({ children }: { children: ReactNode }) {
  const current = useSession();
  const signIn = useSignInRedirect();
  if (!current) return <Navigate to={signIn} replace />;
  if (current.user.role !== "delivery") return <Navigate to="/board" replace />;
  return <>{children}</>;
}

export function RequireAdmin({ children }: { children: ReactNode }) {
  const current = useSession();
  if (current?.user.role !== "admin") {
    return (
      <div className="page">
        <h1>Admins only</h1>
        <p>This page is for the canteen manager. Ask an admin if something here needs changing.</p>
      </div>
    );
  }
  return <>{children}</>;
}

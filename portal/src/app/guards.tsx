import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router";

import { useSession } from "@/features/auth/hooks/use-session";

/** Signed-in kitchen or admin staff only; everyone else goes to the sign-in page. */
export function RequireStaff({ children }: { children: ReactNode }) {
  const current = useSession();
  const location = useLocation();
  if (!current) {
    const next = `${location.pathname}${location.search}`;
    return <Navigate to={`/login?next=${encodeURIComponent(next)}`} replace />;
  }
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

import { Outlet } from "react-router";

import { Toasts } from "@/components/Toasts";
import { signOut } from "@/features/auth/api/auth";
import { useSession } from "@/features/auth/hooks/use-session";

import "./delivery.css";

/** A phone layout for delivery staff: their orders and a way out, nothing of the kitchen. */
export function DeliveryLayout() {
  const current = useSession();
  return (
    <div className="delivery-shell">
      <header className="delivery-bar">
        <span className="brand">Canteen</span>
        <span className="muted">{current?.user.name ?? current?.user.phone}</span>
        <button type="button" className="btn btn-sm btn-secondary" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
      <Toasts />
    </div>
  );
}

import { useQuery } from "@tanstack/react-query";
import { useEffect } from "react";
import { NavLink, Outlet } from "react-router";

import { Toasts } from "@/components/Toasts";
import { signOut } from "@/features/auth/api/auth";
import { useSession } from "@/features/auth/hooks/use-session";
import { FeedStatus } from "@/features/board/components/FeedStatus";
import { NewOrderBanner } from "@/features/board/components/NewOrderBanner";
import { setSound, soundStore } from "@/features/board/hooks/sound";
import { useKitchenFeed } from "@/features/board/hooks/use-kitchen-feed";
import { api, data } from "@/lib/api";
import { soundBlocked, unlockSound } from "@/lib/chime";
import { useStore } from "@/lib/store";
import { setCanteenTimeZone } from "@/lib/time";

function SoundToggle() {
  const on = useStore(soundStore);
  return (
    <button
      type="button"
      className="btn btn-sm btn-ghost sound-toggle"
      aria-pressed={on}
      onClick={() => {
        unlockSound();
        setSound(!on);
      }}
      title={on && soundBlocked() ? "Tap once to let the browser play the chime" : undefined}
    >
      <span aria-hidden="true" className={on ? "icon-bell" : "icon-bell-off"} />
      Sound {on ? "on" : "off"}
    </button>
  );
}

export function AppLayout() {
  const current = useSession();
  const admin = current?.user.role === "admin";
  useKitchenFeed(Boolean(current));

  const config = useQuery({
    queryKey: ["public-config"],
    queryFn: () => data(api.GET("/api/v1/config/public")),
    staleTime: 5 * 60_000,
  });
  useEffect(() => {
    if (config.data?.timezone) setCanteenTimeZone(config.data.timezone);
  }, [config.data?.timezone]);

  useEffect(() => {
    // Any click or key press lets the browser play the new-order chime from then on.
    const unlock = () => unlockSound();
    window.addEventListener("pointerdown", unlock, { once: true });
    window.addEventListener("keydown", unlock, { once: true });
    return () => {
      window.removeEventListener("pointerdown", unlock);
      window.removeEventListener("keydown", unlock);
    };
  }, []);

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">
          <span className="brand-mark" aria-hidden="true">
            C
          </span>
          Canteen
        </span>
        <nav aria-label="Main">
          <ul>
            <li>
              <NavLink to="/board">Board</NavLink>
            </li>
            <li>
              <NavLink to="/counter">Counter</NavLink>
            </li>
            <li>
              <NavLink to="/orders">Orders</NavLink>
            </li>
            <li>
              <NavLink to="/menu">Menu</NavLink>
            </li>
            {admin ? (
              <>
                <li>
                  <NavLink to="/dashboard">Dashboard</NavLink>
                </li>
                <li>
                  <NavLink to="/reports">Reports</NavLink>
                </li>
                <li>
                  <NavLink to="/settings">Settings</NavLink>
                </li>
                <li>
                  <NavLink to="/staff">Staff</NavLink>
                </li>
              </>
            ) : null}
          </ul>
        </nav>
        <div className="topbar-right">
          {config.data && (!config.data.restaurant_open || config.data.ordering_paused) ? (
            <span className="tag tag-warn">{config.data.restaurant_open ? "Orders paused" : "Closed"}</span>
          ) : null}
          <FeedStatus />
          <SoundToggle />
          <span className="who" title={current?.user.phone}>
            {current?.user.name ?? current?.user.phone}
            <span className="muted"> · {current?.user.role}</span>
          </span>
          <button type="button" className="btn btn-sm btn-secondary" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <NewOrderBanner />
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
      <Toasts />
    </div>
  );
}

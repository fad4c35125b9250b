import { QueryClientProvider, type QueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { BrowserRouter, Navigate, Route, Routes, useLocation } from "react-router";

import { LoginPage } from "@/features/auth/components/LoginPage";
import { useSession } from "@/features/auth/hooks/use-session";
import { BoardPage } from "@/features/board/components/BoardPage";
import { CounterPage } from "@/features/counter/components/CounterPage";
import { DeliveriesPage } from "@/features/delivery/components/DeliveriesPage";
import { DeliveryLayout } from "@/features/delivery/components/DeliveryLayout";
import { DisplayPage } from "@/features/display/components/DisplayPage";
import { resetBoardState } from "@/features/board/hooks/stores";
import { ItemEditorPage } from "@/features/menu/components/ItemEditorPage";
import { MenuPage } from "@/features/menu/components/MenuPage";
import { OrderDetailPage } from "@/features/orders/components/OrderDetailPage";
import { OrdersPage } from "@/features/orders/components/OrdersPage";
import { DashboardPage } from "@/features/reports/components/DashboardPage";
import { ReportsPage } from "@/features/reports/components/ReportsPage";
import { SettingsPage } from "@/features/settings/components/SettingsPage";
import { StaffPage } from "@/features/staff/components/StaffPage";
import { makeQueryClient } from "@/lib/query-client";

import { AppLayout } from "./AppLayout";
import { RequireAdmin, RequireDelivery, RequireStaff } from "./guards";
import { NotFound } from "./NotFound";

const TITLES: [RegExp, string][] = [
  [/^\/login/, "Sign in"],
  [/^\/board/, "Live board"],
  [/^\/counter/, "Counter"],
  [/^\/deliveries/, "My deliveries"],
  [/^\/display/, "Order status"],
  [/^\/orders\/.+/, "Order"],
  [/^\/orders/, "Orders"],
  [/^\/menu\/items\/new/, "New menu item"],
  [/^\/menu\/items\//, "Edit menu item"],
  [/^\/menu/, "Menu"],
  [/^\/settings/, "Settings"],
  [/^\/dashboard/, "Dashboard"],
  [/^\/reports/, "Reports"],
  [/^\/staff/, "Staff"],
];

/** Page titles and focus on navigation, so screen readers hear the new page. */
function RouteAnnouncer() {
  const { pathname } = useLocation();
  useEffect(() => {
    const title = TITLES.find(([re]) => re.test(pathname))?.[1] ?? "Kitchen portal";
    document.title = `${title} · Canteen kitchen`;
  }, [pathname]);
  return null;
}

/** Drop every cached answer and the board when the session ends (sign-out or expiry). */
function SessionBoundary({ client }: { client: QueryClient }) {
  const userId = useSession()?.user.id ?? null;
  const last = useRef(userId);
  useEffect(() => {
    if (last.current !== userId) {
      // Signed out, expired, or another person signed in: nothing of theirs stays on screen.
      client.clear();
      resetBoardState();
    }
    last.current = userId;
  }, [client, userId]);
  return null;
}

/** Admins land on the dashboard, the kitchen on its board. */
function Landing() {
  const admin = useSession()?.user.role === "admin";
  return <Navigate to={admin ? "/dashboard" : "/board"} replace />;
}

export function AppRoutes() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      {/* The counter TV: its own display token, no staff session and no app chrome. */}
      <Route path="/display" element={<DisplayPage />} />
      <Route
        element={
          <RequireDelivery>
            <DeliveryLayout />
          </RequireDelivery>
        }
      >
        <Route path="/deliveries" element={<DeliveriesPage />} />
      </Route>
      <Route
        element={
          <RequireStaff>
            <AppLayout />
          </RequireStaff>
        }
      >
        <Route index element={<Landing />} />
        <Route path="/board" element={<BoardPage />} />
        <Route path="/counter" element={<CounterPage />} />
        <Route path="/orders" element={<OrdersPage />} />
        <Route path="/orders/:orderId" element={<OrderDetailPage />} />
        <Route path="/menu" element={<MenuPage />} />
        <Route
          path="/menu/items/new"
          element={
            <RequireAdmin>
              <ItemEditorPage />
            </RequireAdmin>
          }
        />
        <Route
          path="/menu/items/:itemId"
          element={
            <RequireAdmin>
              <ItemEditorPage />
            </RequireAdmin>
          }
        />
        <Route
          path="/dashboard"
          element={
            <RequireAdmin>
              <DashboardPage />
            </RequireAdmin>
          }
        />
        <Route
          path="/reports"
          element={
            <RequireAdmin>
              <ReportsPage />
            </RequireAdmin>
          }
        />
        <Route
          path="/settings"
          element={
            <RequireAdmin>
              <SettingsPage />
            </RequireAdmin>
          }
        />
        <Route
          path="/staff"
          element={
            <RequireAdmin>
              <StaffPage />
            </RequireAdmin>
          }
        />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}

export function App({ client = makeQueryClient() }: { client?: QueryClient }) {
  return (
    <QueryClientProvider client={client}>
      <SessionBoundary client={client} />
      <BrowserRouter basename={import.meta.env.BASE_URL.replace(/\/$/, "")}>
        <RouteAnnouncer />
        <AppRoutes />
      </BrowserRouter>
    </QueryClientProvider>
  );
}

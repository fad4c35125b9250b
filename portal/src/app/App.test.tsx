import { QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { MemoryRouter } from "react-router";

import { makeQueryClient } from "@/lib/query-client";
import { session } from "@/lib/session";
import { list, signInAs } from "@/testing/factories";
import { server } from "@/testing/server";

import { AppRoutes } from "./App";

const API = "http://localhost:3000/api/v1";

function renderApp(route: string) {
  const client = makeQueryClient();
  return render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[route]}>
        <AppRoutes />
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

function serveShell() {
  const encoder = new TextEncoder();
  server.use(
    http.get(`${API}/config/public`, () =>
      HttpResponse.json({
        data: {
          delivery_enabled: true,
          cash_payment_enabled: true,
          upi_payment_enabled: true,
          restaurant_open: true,
          ordering_paused: true,
          delivery_fee: 2000,
          currency: "INR",
          accepting_orders: false,
          razorpay_key_id: "rzp",
          timezone: "Asia/Kolkata",
          time_slots: [],
          current_time_slot: null,
          server_time: "2026-11-01T00:00:00Z",
        },
      }),
    ),
    http.get(`${API}/admin/orders/stream`, () => {
      const body = new ReadableStream({
        start(controller) {
          controller.enqueue(encoder.encode('id: 0\nevent: hello\ndata: {"last_event_id":0,"replay":false}\n\n'));
        },
      });
      return new HttpResponse(body, { headers: { "Content-Type": "text/event-stream" } });
    }),
    http.get(`${API}/admin/orders`, () => HttpResponse.json(list([]))),
  );
}

describe("the app shell", () => {
  it("sends a signed-out visitor to the sign-in page, remembering where they were going", () => {
    renderApp("/orders?q=ORD-1");
    expect(screen.getByRole("heading", { name: /Canteen kitchen/ })).toBeInTheDocument();
  });

  it("shows the board, the live feed's state and the pause flag to the kitchen; admin pages are closed", async () => {
    signInAs("kitchen");
    serveShell();
    renderApp("/board");
    expect(await screen.findByRole("heading", { name: /Live board/ })).toBeInTheDocument();
    expect(await screen.findByText("Orders paused")).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: "Settings" })).toBeNull();
    expect(await screen.findByText(/Live$/)).toBeInTheDocument();
  });

  it("tells the kitchen that settings are for admins", () => {
    signInAs("kitchen");
    serveShell();
    renderApp("/settings");
    expect(screen.getByRole("heading", { name: "Admins only" })).toBeInTheDocument();
  });

  it("shows a not-found page for an unknown address inside the portal", () => {
    signInAs("admin");
    serveShell();
    renderApp("/no/such/page");
    expect(screen.getByRole("heading", { name: "Page not found" })).toBeInTheDocument();
  });

  it("signs out: the session is gone and the sign-in page is back", async () => {
    signInAs("admin");
    serveShell();
    server.use(http.post(`${API}/auth/logout`, () => HttpResponse.json({ data: { logged_out: true } })));
    renderApp("/board");
    await userEvent.click(await screen.findByRole("button", { name: "Sign out" }));
    expect(await screen.findByText("You have signed out.")).toBeInTheDocument();
    expect(session.get()).toBeNull();
  });
});

import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";

import { apiError } from "@/testing/factories";
import { renderPage } from "@/testing/render";
import { server } from "@/testing/server";

import { DisplayPage, TOKEN_KEY } from "./DisplayPage";

const API = "http://localhost:3000/api/v1";
const TOKEN = "disp_test-token";

function sse(...blocks: string[]): HttpResponse<ReadableStream<Uint8Array>> {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const block of blocks) controller.enqueue(new TextEncoder().encode(block));
      // left open, as a live stream is
    },
  });
  return new HttpResponse(body, { headers: { "Content-Type": "text/event-stream" } });
}

function serveDisplay(seen: { auth: (string | null)[]; streamUrls: string[] }) {
  server.use(
    http.get(`${API}/display/orders`, ({ request }) => {
      seen.auth.push(request.headers.get("Authorization"));
      return HttpResponse.json({
        data: {
          last_event_id: 40,
          preparing: [{ order_id: "o2", order_number: "ORD-20261204-002", status: "preparing" }],
          ready: [],
        },
      });
    }),
    http.get(`${API}/display/stream`, ({ request }) => {
      seen.auth.push(request.headers.get("Authorization"));
      seen.streamUrls.push(request.url);
      return sse(
        'retry: 2000\nid: 40\nevent: hello\ndata: {"last_event_id":40,"replay":true}\n\n',
        'id: 41\nevent: display.order\ndata: {"seq":41,"order_id":"o2","order_number":"ORD-20261204-002","status":"ready"}\n\n',
        'id: 42\nevent: display.order\ndata: {"seq":42,"order_id":"o3","order_number":"ORD-20261204-003","status":"confirmed"}\n\n',
      );
    }),
  );
}

describe("the order-status display", () => {
  afterEach(() => window.history.replaceState(null, "", "/"));

  it("takes its token from the link's fragment, keeps it, and follows the stream from the snapshot", async () => {
    const seen = { auth: [] as (string | null)[], streamUrls: [] as string[] };
    serveDisplay(seen);
    window.history.replaceState(null, "", `/display#token=${TOKEN}`);
    renderPage(<DisplayPage />);
    const ready = await screen.findByRole("region", { name: "Ready" });
    expect(await within(ready).findByText("002")).toHaveClass("display-number-fresh");
    const preparing = screen.getByRole("region", { name: "Preparing" });
    expect(await within(preparing).findByText("003")).toBeInTheDocument();
    expect(within(preparing).queryByText("002")).toBeNull();
    expect(localStorage.getItem(TOKEN_KEY)).toBe(TOKEN);
    expect(window.location.hash).toBe(""); // the token leaves the address bar
    expect(seen.auth.every((a) => a === `Bearer ${TOKEN}`)).toBe(true);
    expect(new URL(seen.streamUrls[0] ?? "").searchParams.get("last_event_id")).toBe("40");
  });

  it("asks for a token again when its token is refused (revoked)", async () => {
    localStorage.setItem(TOKEN_KEY, TOKEN);
    server.use(
      http.get(`${API}/display/orders`, () =>
        HttpResponse.json(apiError("INVALID_TOKEN", "This display token has been revoked"), { status: 401 }),
      ),
    );
    renderPage(<DisplayPage />);
    expect(await screen.findByRole("alert")).toHaveTextContent("This display token has been revoked");
    expect(localStorage.getItem(TOKEN_KEY)).toBeNull();
    const seen = { auth: [] as (string | null)[], streamUrls: [] as string[] };
    serveDisplay(seen);
    await userEvent.type(screen.getByLabelText("Display token"), "disp_new");
    await userEvent.click(screen.getByRole("button", { name: "Show orders" }));
    expect(await screen.findByText("002")).toBeInTheDocument();
    expect(localStorage.getItem(TOKEN_KEY)).toBe("disp_new");
  });
});

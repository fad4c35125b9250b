import { act, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";

import { BoardPage } from "@/features/board/components/BoardPage";
import { feedHandlers, useKitchenFeed } from "@/features/board/hooks/use-kitchen-feed";
import { chooseStation } from "@/features/board/hooks/stations-view";
import { envelope, list, order, signInAs } from "@/testing/factories";
import { renderPage } from "@/testing/render";
import { server } from "@/testing/server";

import { StationsPanel } from "./StationsPanel";

const API = "http://localhost:3000/api/v1";
const line = (id: string, name: string, quantity: number) => ({
  menu_item_id: id,
  name,
  unit_price: 100,
  quantity,
  line_total: 100 * quantity,
  notes: null,
});
const floor = {
  stations: [
    { id: "st-tawa", name: "Dosa tawa", sort_order: 0, item_ids: ["dosa"] },
    { id: "st-drinks", name: "Beverages", sort_order: 1, item_ids: ["chai"] },
  ],
  auto_ready: false,
};

describe("the board with stations", () => {
  beforeEach(() => {
    signInAs("kitchen");
    chooseStation("");
  });

  it("shows one station's lines and counts, marks lines done, and says when all stations are done", async () => {
    const both = order({
      id: "o1",
      number: "ORD-20261101-001",
      status: "preparing",
      items: [line("dosa", "Masala Dosa", 2), line("chai", "Masala Chai", 1)],
    });
    const chaiOnly = order({ id: "o2", number: "ORD-20261101-002", items: [line("chai", "Masala Chai", 3)] });
    const marked: { method: string; url: string }[] = [];
    server.use(
      http.get(`${API}/admin/orders`, () => HttpResponse.json(list([both, chaiOnly]))),
      http.get(`${API}/admin/orders/:id`, ({ params }) =>
        HttpResponse.json({ data: { ...(params.id === "o1" ? both : chaiOnly), events: [] } }),
      ),
      http.get(`${API}/admin/stations`, () => HttpResponse.json(envelope(floor))),
      http.get(`${API}/admin/stations/marks`, () =>
        HttpResponse.json(envelope([{ order_id: "o1", position: 1, done_at: "2026-11-01T06:00:00Z" }])),
      ),
      http.put(`${API}/admin/orders/:id/lines/:position/done`, ({ request }) => {
        marked.push({ method: "PUT", url: request.url });
        return HttpResponse.json(envelope({ order_id: "o1", status: "preparing", done: [0, 1], all_done: true }));
      }),
    );
    renderPage(<BoardPage />);
    const picker = await screen.findByLabelText("Station");
    await userEvent.selectOptions(picker, "Dosa tawa");
    // Only the tawa's lines and tickets; its own all-day count.
    expect(await screen.findByRole("heading", { name: /ORD-20261101-001/ })).toBeInTheDocument();
    expect(screen.queryByRole("heading", { name: /ORD-20261101-002/ })).toBeNull();
    const ticket = screen.getByRole("heading", { name: /ORD-20261101-001/ }).closest("li")!;
    expect(within(ticket).getByRole("list", { name: "Items" })).toHaveTextContent("Masala Dosa");
    expect(within(ticket).getByRole("list", { name: "Items" })).not.toHaveTextContent("Masala Chai");
    const allDay = screen.getByRole("region", { name: /All day/ });
    expect(allDay).toHaveTextContent("Masala Dosa");
    expect(allDay).not.toHaveTextContent("Masala Chai");
    // Mark the dosa done: the chai was done already, so every station is done.
    const toggle = within(ticket).getByRole("button", { name: "Masala Dosa done" });
    expect(toggle).toHaveAttribute("aria-pressed", "false");
    await userEvent.click(toggle);
    await vi.waitFor(() => expect(toggle).toHaveAttribute("aria-pressed", "true"));
    expect(marked).toEqual([{ method: "PUT", url: `${API}/admin/orders/o1/lines/0/done` }]);
    expect(within(ticket).getByRole("status")).toHaveTextContent("All stations done");
  });

  it("hears another station's done mark on the kitchen stream", async () => {
    const both = order({ id: "o1", number: "ORD-20261101-001", items: [line("dosa", "Masala Dosa", 1)] });
    server.use(
      http.get(`${API}/admin/orders`, () => HttpResponse.json(list([both]))),
      http.get(`${API}/admin/orders/:id`, () => HttpResponse.json({ data: { ...both, events: [] } })),
      http.get(`${API}/admin/stations`, () => HttpResponse.json(envelope(floor))),
    );
    const { client } = renderPage(<BoardPage />);
    const ticket = (await screen.findByRole("heading", { name: /ORD-20261101-001/ })).closest("li")!;
    const toggle = await within(ticket).findByRole("button", { name: "Masala Dosa done" });
    const feed = feedHandlers(client, 1);
    act(() =>
      feed.onEvent({
        id: "e1",
        seq: 3,
        type: "order.line_done",
        order_id: "o1",
        order_number: both.number,
        at: "",
        data: { position: 0, done: true, all_done: true },
      }),
    );
    await vi.waitFor(() => expect(toggle).toHaveAttribute("aria-pressed", "true"));
  });
});

function BoardWithFeed() {
  useKitchenFeed(true);
  return <BoardPage />;
}

describe("the board's feed with stations", () => {
  beforeEach(() => {
    signInAs("kitchen");
    chooseStation("");
  });

  it("reads the station's filtered stream while one is picked, the whole stream on All stations", async () => {
    const opened: string[] = [];
    const dosa = order({ id: "o1", number: "ORD-20261101-001", items: [line("dosa", "Masala Dosa", 1)] });
    server.use(
      http.get(`${API}/admin/orders`, () => HttpResponse.json(list([dosa]))),
      http.get(`${API}/admin/orders/stream`, ({ request }) => {
        const url = new URL(request.url);
        opened.push(url.search);
        // A hello, then the stream stays open until the feed drops it.
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(
              new TextEncoder().encode('id: 7\nevent: hello\ndata: {"last_event_id":7,"replay":false}\n\n'),
            );
          },
        });
        return new HttpResponse(body, { headers: { "Content-Type": "text/event-stream" } });
      }),
      http.get(`${API}/admin/orders/:id`, () => HttpResponse.json({ data: { ...dosa, events: [] } })),
      http.get(`${API}/admin/stations`, () => HttpResponse.json(envelope(floor))),
    );
    renderPage(<BoardWithFeed />);
    await vi.waitFor(() => expect(opened).toEqual([""]));
    await userEvent.selectOptions(await screen.findByLabelText("Station"), "Dosa tawa");
    // A fresh stream of the station's filter (no resume position: its hello reloads the board).
    await vi.waitFor(() => expect(opened).toEqual(["", "?station=st-tawa"]));
    await userEvent.selectOptions(screen.getByLabelText("Station"), "All stations");
    await vi.waitFor(() => expect(opened).toEqual(["", "?station=st-tawa", ""]));
    expect(await screen.findByRole("heading", { name: /ORD-20261101-001/ })).toBeInTheDocument();
  });
});

describe("Settings → Stations", () => {
  beforeEach(() => signInAs("admin"));

  it("adds and deletes stations and switches ready-when-all-done", async () => {
    let current = { stations: [] as typeof floor.stations, auto_ready: false };
    const calls: string[] = [];
    server.use(
      http.get(`${API}/admin/stations`, () => HttpResponse.json(envelope(current))),
      http.post(`${API}/admin/stations`, async ({ request }) => {
        const body = (await request.json()) as { name: string };
        calls.push(`add ${body.name}`);
        current = { ...current, stations: [{ id: "s1", name: body.name, sort_order: 0, item_ids: [] }] };
        return HttpResponse.json(envelope(current.stations[0]), { status: 201 });
      }),
      http.delete(`${API}/admin/stations/:id`, ({ params }) => {
        calls.push(`delete ${String(params.id)}`);
        current = { ...current, stations: [] };
        return new HttpResponse(null, { status: 204 });
      }),
      http.patch(`${API}/admin/stations/settings`, async ({ request }) => {
        const body = (await request.json()) as { auto_ready: boolean };
        calls.push(`auto_ready ${body.auto_ready}`);
        current = { ...current, auto_ready: body.auto_ready };
        return HttpResponse.json(envelope(current));
      }),
    );
    renderPage(<StationsPanel />);
    expect(await screen.findByText("No stations yet.")).toBeInTheDocument();
    await userEvent.type(screen.getByLabelText("New station"), "Tandoor");
    await userEvent.click(screen.getByRole("button", { name: "Add station" }));
    expect(await screen.findByText("Tandoor")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("switch", { name: "Ready when every station is done" }));
    await vi.waitFor(() =>
      expect(screen.getByRole("switch", { name: "Ready when every station is done" })).toHaveAttribute(
        "aria-checked",
        "true",
      ),
    );
    await userEvent.click(screen.getByRole("button", { name: "Delete station Tandoor" }));
    expect(await screen.findByText("No stations yet.")).toBeInTheDocument();
    expect(calls).toEqual(["add Tandoor", "auto_ready true", "delete s1"]);
  });
});

describe("Settings → Stations: rename", () => {
  beforeEach(() => signInAs("admin"));

  it("renames a station, and keeps the old name when the API refuses a taken one", async () => {
    let current = {
      stations: [
        { id: "s1", name: "Tandoor", sort_order: 0, item_ids: [] as string[] },
        { id: "s2", name: "Beverages", sort_order: 1, item_ids: [] as string[] },
      ],
      auto_ready: false,
    };
    const sent: { id: string; body: unknown }[] = [];
    server.use(
      http.get(`${API}/admin/stations`, () => HttpResponse.json(envelope(current))),
      http.patch(`${API}/admin/stations/:id`, async ({ params, request }) => {
        const body = (await request.json()) as { name: string };
        sent.push({ id: String(params.id), body });
        if (current.stations.some((s) => s.name === body.name && s.id !== params.id)) {
          return HttpResponse.json(
            {
              error: {
                code: "STATION_NAME_TAKEN",
                message: "A station with this name exists already",
                details: [{ field: "name", issue: "taken", message: "A station with this name exists already" }],
              },
            },
            { status: 409 },
          );
        }
        current = {
          ...current,
          stations: current.stations.map((s) => (s.id === params.id ? { ...s, name: body.name } : s)),
        };
        return HttpResponse.json(envelope(current.stations.find((s) => s.id === params.id)));
      }),
    );
    renderPage(<StationsPanel />);
    await userEvent.click(await screen.findByRole("button", { name: "Rename station Tandoor" }));
    const input = screen.getByLabelText("Rename Tandoor");
    await userEvent.clear(input);
    await userEvent.type(input, "Beverages");
    await userEvent.click(screen.getByRole("button", { name: "Save" }));
    // Refused: the message by the field, the form still open, the list unchanged.
    expect(await screen.findAllByText("A station with this name exists already")).not.toHaveLength(0);
    expect(screen.getByLabelText("Rename Tandoor")).toHaveValue("Beverages");
    expect(current.stations.map((s) => s.name)).toEqual(["Tandoor", "Beverages"]);
    await userEvent.clear(input);
    await userEvent.type(input, "  Clay oven ");
    await userEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Clay oven")).toBeInTheDocument();
    expect(screen.queryByLabelText("Rename Tandoor")).toBeNull();
    expect(screen.queryByText("A station with this name exists already")).toBeNull();
    expect(sent).toEqual([
      { id: "s1", body: { name: "Beverages" } },
      { id: "s1", body: { name: "Clay oven" } },
    ]);
  });
});

describe("Settings → Stations: a station's printer", () => {
  beforeEach(() => signInAs("admin"));

  const tawa = { id: "s1", name: "Dosa tawa", sort_order: 0, item_ids: [] as string[] };
  /** The API's stations and the PATCH bodies it received; a host with a space is refused as the API does. */
  function serve(station: typeof tawa & { printer_host: string | null; printer_port: number | null }) {
    let current = station;
    const sent: unknown[] = [];
    server.use(
      http.get(`${API}/admin/stations`, () => HttpResponse.json(envelope({ stations: [current], auto_ready: false }))),
      http.patch(`${API}/admin/stations/:id`, async ({ request }) => {
        const body = (await request.json()) as { printer_host: string | null; printer_port: number | null };
        sent.push(body);
        if (body.printer_host?.includes(" ")) {
          return HttpResponse.json(
            {
              error: {
                code: "VALIDATION_ERROR",
                message: "The request is not valid",
                details: [{ field: "body.printer_host", issue: "pattern", message: "Not a host name or IPv4 address" }],
              },
            },
            { status: 400 },
          );
        }
        current = { ...current, ...body };
        return HttpResponse.json(envelope(current));
      }),
    );
    return { sent, current: () => current };
  }

  it("sets a station's printer: the PATCH sends host and port, and the row says where it prints", async () => {
    const api = serve({ ...tawa, printer_host: null, printer_port: null });
    renderPage(<StationsPanel />);
    expect(await screen.findByText("Prints on the canteen's printer")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Printer of station Dosa tawa" }));
    const form = screen.getByRole("form", { name: "Printer of Dosa tawa" });
    await userEvent.type(within(form).getByLabelText("Printer host"), " 10.0.0.8 ");
    await userEvent.type(within(form).getByLabelText("Printer port"), "9101");
    await userEvent.click(within(form).getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Prints on 10.0.0.8:9101")).toBeInTheDocument();
    expect(screen.queryByRole("form", { name: "Printer of Dosa tawa" })).toBeNull();
    expect(api.sent).toEqual([{ printer_host: "10.0.0.8", printer_port: 9101 }]);
  });

  it("an empty port sends null (9100), and clearing the host sends null for both", async () => {
    const api = serve({ ...tawa, printer_host: "kitchen-printer", printer_port: 9101 });
    renderPage(<StationsPanel />);
    expect(await screen.findByText("Prints on kitchen-printer:9101")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Printer of station Dosa tawa" }));
    let form = screen.getByRole("form", { name: "Printer of Dosa tawa" });
    expect(within(form).getByLabelText("Printer host")).toHaveValue("kitchen-printer");
    await userEvent.clear(within(form).getByLabelText("Printer port"));
    await userEvent.click(within(form).getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Prints on kitchen-printer:9100")).toBeInTheDocument();

    await userEvent.click(screen.getByRole("button", { name: "Printer of station Dosa tawa" }));
    form = screen.getByRole("form", { name: "Printer of Dosa tawa" });
    await userEvent.clear(within(form).getByLabelText("Printer host"));
    await userEvent.type(within(form).getByLabelText("Printer port"), "9102");
    await userEvent.click(within(form).getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Prints on the canteen's printer")).toBeInTheDocument();
    expect(api.sent).toEqual([
      { printer_host: "kitchen-printer", printer_port: null },
      { printer_host: null, printer_port: null },
    ]);
  });

  it("a port that is not a number is caught before sending", async () => {
    const api = serve({ ...tawa, printer_host: null, printer_port: null });
    renderPage(<StationsPanel />);
    await userEvent.click(await screen.findByRole("button", { name: "Printer of station Dosa tawa" }));
    const form = screen.getByRole("form", { name: "Printer of Dosa tawa" });
    await userEvent.type(within(form).getByLabelText("Printer host"), "10.0.0.8");
    await userEvent.type(within(form).getByLabelText("Printer port"), "91OO");
    expect(within(form).getByLabelText("Printer port")).toHaveAccessibleDescription(
      /A port is a number, 9100 for most printers\./,
    );
    expect(within(form).getByRole("button", { name: "Save" })).toBeDisabled();
    expect(api.sent).toEqual([]);
  });

  it("a host the API refuses shows its error beside the field, and nothing changes", async () => {
    const api = serve({ ...tawa, printer_host: "10.0.0.8", printer_port: null });
    renderPage(<StationsPanel />);
    expect(await screen.findByText("Prints on 10.0.0.8:9100")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Printer of station Dosa tawa" }));
    const form = screen.getByRole("form", { name: "Printer of Dosa tawa" });
    const host = within(form).getByLabelText("Printer host");
    await userEvent.clear(host);
    await userEvent.type(host, "back office");
    await userEvent.click(within(form).getByRole("button", { name: "Save" }));
    await vi.waitFor(() => expect(host).toHaveAccessibleDescription(/Not a host name or IPv4 address/));
    expect(host).toHaveAttribute("aria-invalid", "true");
    expect(within(form).getByRole("alert")).toHaveTextContent("Not saved; the station prints where it did.");
    // Shown by the field, so not listed again in the summary.
    expect(within(form).getByRole("alert")).not.toHaveTextContent("Printer host:");
    expect(host).toHaveValue("back office");
    expect(screen.getByText("Prints on 10.0.0.8:9100")).toBeInTheDocument();
    expect(api.current()).toMatchObject({ printer_host: "10.0.0.8", printer_port: null });
    expect(api.sent).toEqual([{ printer_host: "back office", printer_port: null }]);
  });
});

describe("Settings → Stations: a new station's printer", () => {
  beforeEach(() => signInAs("admin"));

  it("sends the printer with the new station only when a host is given", async () => {
    const stations: Record<string, unknown>[] = [];
    const sent: unknown[] = [];
    server.use(
      http.get(`${API}/admin/stations`, () => HttpResponse.json(envelope({ stations, auto_ready: false }))),
      http.post(`${API}/admin/stations`, async ({ request }) => {
        const body = (await request.json()) as Record<string, unknown>;
        sent.push(body);
        const station = { printer_host: null, printer_port: null, ...body, id: `s${sent.length}`, item_ids: [] };
        stations.push(station);
        return HttpResponse.json(envelope(station), { status: 201 });
      }),
    );
    renderPage(<StationsPanel />);
    await screen.findByText("No stations yet.");
    await userEvent.type(screen.getByLabelText("New station"), "Tandoor");
    await userEvent.type(screen.getByLabelText("Printer host (optional)"), "tandoor-printer");
    await userEvent.type(screen.getByLabelText("Printer port (optional)"), "9101");
    await userEvent.click(screen.getByRole("button", { name: "Add station" }));
    expect(await screen.findByText("Prints on tandoor-printer:9101")).toBeInTheDocument();
    expect(screen.getByLabelText("Printer host (optional)")).toHaveValue("");
    await userEvent.type(screen.getByLabelText("New station"), "Beverages");
    await userEvent.click(screen.getByRole("button", { name: "Add station" }));
    expect(await screen.findByText("Prints on the canteen's printer")).toBeInTheDocument();
    expect(sent).toEqual([
      { name: "Tandoor", sort_order: 0, printer_host: "tandoor-printer", printer_port: 9101 },
      { name: "Beverages", sort_order: 1 },
    ]);
  });
});

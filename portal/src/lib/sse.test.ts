import { ApiError } from "./api";
import { KitchenStream, SseParser, type KitchenEvent } from "./sse";

describe("SseParser", () => {
  it("parses whole messages from chunks split anywhere", () => {
    const parser = new SseParser();
    const text =
      'retry: 2000\nid: 7\nevent: hello\ndata: {"last_event_id": 7}\n\n: heartbeat\n\nid: 8\r\nevent: order.created\r\ndata: {"seq":8,\r\ndata: "x":1}\r\n\r\n';
    const messages = [];
    for (let i = 0; i < text.length; i += 3) messages.push(...parser.push(text.slice(i, i + 3)));
    expect(messages).toEqual([
      { id: "7", event: "hello", data: '{"last_event_id": 7}', retry: 2000 },
      { id: "8", event: "order.created", data: '{"seq":8,\n"x":1}', retry: null },
    ]);
  });

  it("ignores comments, unknown fields and empty blocks", () => {
    const parser = new SseParser();
    expect(parser.push(": only a comment\n\nfoo: bar\n\n\n")).toEqual([]);
    expect(parser.push("data\n\n")).toEqual([{ id: null, event: "message", data: "", retry: null }]);
  });
});

/** A fake server: each connection gets a stream the test writes to. */
class FakeFeed {
  requests: Request[] = [];
  private controllers: ReadableStreamDefaultController<Uint8Array>[] = [];
  responders: ((request: Request) => Response | Promise<Response>)[] = [];
  private encoder = new TextEncoder();

  fetcher = async (request: Request): Promise<Response> => {
    this.requests.push(request);
    const responder = this.responders.shift();
    if (responder) return responder(request);
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.controllers.push(controller);
        request.signal.addEventListener("abort", () => {
          try {
            controller.error(new DOMException("aborted", "AbortError"));
          } catch {
            // closed already
          }
        });
      },
    });
    return new Response(body, { headers: { "Content-Type": "text/event-stream" } });
  };

  get current() {
    return this.controllers[this.controllers.length - 1]!;
  }

  send(text: string) {
    this.current.enqueue(this.encoder.encode(text));
  }

  hello(lastId: number, replay: boolean) {
    this.send(`retry: 10\nid: ${lastId}\nevent: hello\ndata: ${JSON.stringify({ last_event_id: lastId, replay })}\n\n`);
  }

  event(seq: number, type = "order.created", orderId = `order-${seq}`) {
    const data = { id: `e${seq}`, seq, type, order_id: orderId, at: "2026-11-01T00:00:00Z", data: {} };
    this.send(`id: ${seq}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  drop() {
    this.current.error(new TypeError("network error"));
  }

  end() {
    this.current.close();
  }
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => boolean, ms = 2000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await tick(5);
  }
}

describe("KitchenStream", () => {
  let feed: FakeFeed;
  let events: KitchenEvent[];
  let hellos: { lastEventId: number; replay: boolean }[];
  let statuses: string[];
  let stream: KitchenStream;

  beforeEach(() => {
    feed = new FakeFeed();
    events = [];
    hellos = [];
    statuses = [];
    stream = new KitchenStream({
      fetcher: feed.fetcher,
      onEvent: (e) => events.push(e),
      onHello: (h) => hellos.push(h),
      onStatus: (s) => statuses.push(s),
      minBackoffMs: 5,
      maxBackoffMs: 20,
    });
  });
  afterEach(() => stream.stop());

  it("starts without Last-Event-ID, then resumes from the last sequence after a drop", async () => {
    stream.start();
    await until(() => feed.requests.length === 1);
    expect(new URL(feed.requests[0]!.url).searchParams.has("last_event_id")).toBe(false);
    feed.hello(40, false);
    feed.event(41);
    feed.event(42);
    await until(() => events.length === 2);
    expect(statuses).toContain("live");

    feed.drop();
    await until(() => feed.requests.length === 2);
    expect(new URL(feed.requests[1]!.url).searchParams.get("last_event_id")).toBe("42");
    expect(statuses).toContain("reconnecting");
    // The server replays from 42: it may repeat what we have; nothing is applied twice.
    feed.hello(42, true);
    feed.event(41);
    feed.event(42);
    feed.event(43);
    await until(() => events.length === 3);
    await tick(20);
    expect(events.map((e) => e.seq)).toEqual([41, 42, 43]);
    expect(hellos).toEqual([
      { lastEventId: 40, replay: false },
      { lastEventId: 42, replay: true },
    ]);
  });

  it("comes back after the server ends the stream (its lifetime cap)", async () => {
    stream.start();
    await until(() => feed.requests.length === 1);
    feed.hello(5, false);
    feed.event(6);
    await until(() => events.length === 1);
    feed.end();
    await until(() => feed.requests.length === 2);
    expect(new URL(feed.requests[1]!.url).searchParams.get("last_event_id")).toBe("6");
  });

  it("keeps trying while the server is unreachable", async () => {
    feed.responders.push(
      () => Promise.reject(new ApiError(0, "NETWORK_ERROR", "down")),
      () => Promise.reject(new ApiError(0, "NETWORK_ERROR", "down")),
      () => new Response("oops", { status: 502 }),
    );
    stream.start();
    await until(() => feed.requests.length === 4, 3000);
    feed.hello(1, false);
    await until(() => statuses[statuses.length - 1] === "live");
  });

  it("stops for good when the credentials are refused", async () => {
    const fatal: ApiError[] = [];
    stream.stop();
    stream = new KitchenStream({
      fetcher: feed.fetcher,
      onEvent: () => undefined,
      onFatal: (e) => fatal.push(e),
      onStatus: (s) => statuses.push(s),
      minBackoffMs: 5,
    });
    feed.responders.push(() =>
      Response.json({ error: { code: "INSUFFICIENT_ROLE", message: "Not for you", details: [] } }, { status: 403 }),
    );
    stream.start();
    await until(() => fatal.length === 1);
    await tick(30);
    expect(feed.requests).toHaveLength(1);
    expect(fatal[0]!.code).toBe("INSUFFICIENT_ROLE");
    expect(statuses[statuses.length - 1]).toBe("stopped");
  });

  it("reconnects when the line goes silent (no heartbeat)", async () => {
    stream.stop();
    stream = new KitchenStream({ fetcher: feed.fetcher, onEvent: () => undefined, idleTimeoutMs: 30, minBackoffMs: 5 });
    stream.start();
    await until(() => feed.requests.length === 1);
    feed.hello(3, false);
    await until(() => feed.requests.length === 2, 1000);
    expect(new URL(feed.requests[1]!.url).searchParams.get("last_event_id")).toBe("3");
  });
});

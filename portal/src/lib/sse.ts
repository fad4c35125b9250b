/**
 * The kitchen feed (design §7.2): `GET /api/v1/admin/orders/stream`, read as a stream of
 * server-sent events with replay and de-duplication by sequence number.
 *
 * Why not the browser's EventSource: it cannot send an Authorization header (the token
 * would sit in URLs and logs), it gives no status code when it fails (so an expired token
 * looks like a network error and it stops for good), and it replays with Last-Event-ID
 * only on its own reconnects. This reader goes through the API client's `authFetch`
 * (Bearer token, X-Request-ID, one refresh on TOKEN_EXPIRED), reconnects by itself with
 * back-off, and always resumes from the last sequence it has seen (`last_event_id=`), so
 * the server replays exactly what was missed. Anything at or below that sequence is
 * dropped: no event is applied twice, whatever the network does.
 */
import { ApiError, API_PREFIX, authFetch, toApiError } from "./api";
import type { EventType } from "./api-types";

/** What a stream's events are called: the event log's types, or the display stream's
 * PII-free projection (`display.order`, realtime/display_stream.py). */
export type StreamEventType = EventType | "display.order";

export interface KitchenEvent {
  id: string;
  seq: number;
  type: StreamEventType;
  order_id?: string;
  order_number?: string;
  status?: string;
  payment_status?: string;
  at: string;
  data: Record<string, unknown>;
}

export interface Hello {
  lastEventId: number;
  replay: boolean;
}

export type StreamStatus = "connecting" | "live" | "reconnecting" | "stopped";

export interface KitchenStreamOptions {
  onEvent: (event: KitchenEvent) => void;
  /** Each (re)connection starts with a hello; `replay` is false only on a fresh start. */
  onHello?: (hello: Hello) => void;
  onStatus?: (status: StreamStatus, detail?: string) => void;
  /** The server refused the credentials for good (the session has ended). */
  onFatal?: (error: ApiError) => void;
  path?: string;
  fetcher?: (request: Request) => Promise<Response>;
  /** No bytes at all (the server sends a heartbeat every 15 s) for this long: reconnect. */
  idleTimeoutMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/** One parsed SSE block (WHATWG "event stream interpretation"). */
export interface SseMessage {
  id: string | null;
  event: string;
  data: string;
  retry: number | null;
}

/**
 * Incremental SSE parser: feed it text chunks, get whole messages back. Handles CRLF, CR
 * and LF line ends, comments, multi-line data and chunks that split anywhere.
 */
export class SseParser {
  private buffer = "";
  private data: string[] = [];
  private event = "";
  private id: string | null = null;
  private retry: number | null = null;
  private sawField = false;

  push(chunk: string): SseMessage[] {
    this.buffer += chunk;
    const out: SseMessage[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) break;
      // A lone CR at the very end may be the first half of CRLF: wait for more.
      if (match[0] === "\r" && match.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const message = this.line(line);
      if (message) out.push(message);
    }
    return out;
  }

  private line(line: string): SseMessage | null {
    if (line === "") {
      if (!this.sawField) return null;
      const message: SseMessage = {
        id: this.id,
        event: this.event || "message",
        data: this.data.join("\n"),
        retry: this.retry,
      };
      this.data = [];
      this.event = "";
      this.id = null;
      this.retry = null;
      this.sawField = false;
      return message;
    }
    if (line.startsWith(":")) return null; // comment / heartbeat
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "data":
        this.data.push(value);
        break;
      case "event":
        this.event = value;
        break;
      case "id":
        if (!value.includes("\0")) this.id = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        return null;
    }
    this.sawField = true;
    return null;
  }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

export class KitchenStream {
  /** The highest sequence applied; the next connection resumes after it. */
  lastSeq: number | null = null;
  status: StreamStatus = "stopped";

  private readonly options: Required<
    Pick<KitchenStreamOptions, "path" | "idleTimeoutMs" | "minBackoffMs" | "maxBackoffMs">
  > &
    KitchenStreamOptions;
  private stopper: AbortController | null = null;
  private connection: AbortController | null = null;
  private retryMs: number;
  private failures = 0;
  private wake: (() => void) | null = null;

  constructor(options: KitchenStreamOptions) {
    this.options = {
      path: `${API_PREFIX}/admin/orders/stream`,
      idleTimeoutMs: 45_000,
      minBackoffMs: 500,
      maxBackoffMs: 15_000,
      ...options,
    };
    this.retryMs = this.options.minBackoffMs;
  }

  start(): void {
    if (this.stopper) return;
    const stopper = new AbortController();
    this.stopper = stopper;
    void this.run(stopper.signal);
  }

  stop(): void {
    this.stopper?.abort();
    this.stopper = null;
    this.connection?.abort();
    this.setStatus("stopped");
  }

  /** Drop the current connection now and resume from lastSeq (e.g. the browser came back online). */
  reconnectNow(): void {
    this.failures = 0;
    this.connection?.abort();
    this.wake?.();
  }

  private setStatus(status: StreamStatus, detail?: string): void {
    if (this.status === status && !detail) return;
    this.status = status;
    this.options.onStatus?.(status, detail);
  }

  private async run(stopped: AbortSignal): Promise<void> {
    while (!stopped.aborted) {
      this.setStatus(this.lastSeq === null && this.failures === 0 ? "connecting" : "reconnecting");
      let fatal = false;
      try {
        fatal = await this.connect(stopped);
      } catch (error) {
        if (error instanceof ApiError && error.status !== 0 && error.status < 500) {
          // 4xx other than auth (handled in connect): nothing a retry would fix soon,
          // but a kitchen screen must not give up; back off to the maximum.
          this.failures = Math.max(this.failures, 10);
        }
      }
      if (fatal || stopped.aborted) break;
      this.failures += 1;
      const backoff =
        this.failures <= 1
          ? this.retryMs
          : Math.min(this.options.maxBackoffMs, this.retryMs * 2 ** (this.failures - 1));
      const jitter = Math.random() * 0.25 * backoff;
      this.setStatus("reconnecting");
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        void sleep(backoff + jitter, stopped).then(resolve);
      });
      this.wake = null;
    }
  }

  /** One connection. Resolves true when the stream must stop (credentials refused). */
  private async connect(stopped: AbortSignal): Promise<boolean> {
    const connection = new AbortController();
    this.connection = connection;
    const abort = () => connection.abort();
    stopped.addEventListener("abort", abort, { once: true });
    let idle: ReturnType<typeof setTimeout> | undefined;
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => connection.abort(), this.options.idleTimeoutMs);
    };
    try {
      const url = new URL(this.options.path, globalThis.location?.origin ?? "http://localhost");
      if (this.lastSeq !== null) url.searchParams.set("last_event_id", String(this.lastSeq));
      const request = new Request(url, {
        headers: { Accept: "text/event-stream", "Cache-Control": "no-cache" },
        signal: connection.signal,
        cache: "no-store",
      });
      armIdle();
      const fetcher = this.options.fetcher ?? authFetch;
      let response: Response;
      try {
        response = await fetcher(request);
      } catch (error) {
        if (error instanceof ApiError) throw error;
        throw new ApiError(0, "NETWORK_ERROR", "The live feed is unreachable");
      }
      if (!response.ok) {
        const error = await toApiError(response);
        if (response.status === 401 || response.status === 403) {
          this.setStatus("stopped", error.message);
          this.options.onFatal?.(error);
          return true;
        }
        throw error;
      }
      if (!response.body) throw new ApiError(0, "NETWORK_ERROR", "The live feed sent no body");
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      const parser = new SseParser();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          armIdle();
          for (const message of parser.push(value)) this.dispatch(message);
        }
      } finally {
        reader.releaseLock();
      }
      // The server ended the stream (its lifetime cap): come back after its retry delay.
      this.failures = 0;
      return false;
    } finally {
      clearTimeout(idle);
      stopped.removeEventListener("abort", abort);
      if (this.connection === connection) this.connection = null;
    }
  }

  private dispatch(message: SseMessage): void {
    if (message.retry !== null) {
      this.retryMs = Math.max(this.options.minBackoffMs, message.retry);
    }
    if (message.event === "hello") {
      let info: { last_event_id?: unknown; replay?: unknown } = {};
      try {
        info = JSON.parse(message.data) as typeof info;
      } catch {
        // keep defaults
      }
      const id = Number(message.id ?? info.last_event_id);
      if (this.lastSeq === null && Number.isFinite(id)) this.lastSeq = id;
      this.failures = 0;
      this.setStatus("live");
      this.options.onHello?.({
        lastEventId: Number.isFinite(id) ? id : 0,
        replay: info.replay === true,
      });
      return;
    }
    let event: KitchenEvent;
    try {
      event = JSON.parse(message.data) as KitchenEvent;
    } catch {
      return; // not ours
    }
    const seq = Number(event.seq ?? message.id);
    if (!Number.isFinite(seq)) return;
    if (this.lastSeq !== null && seq <= this.lastSeq) return; // seen already: never twice
    this.lastSeq = seq;
    this.options.onEvent({ ...event, seq, type: event.type ?? (message.event as StreamEventType) });
  }
}

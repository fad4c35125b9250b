import { useEffect, useRef, useState } from "react";

import { ApiError } from "@/lib/api";
import { playChime } from "@/lib/chime";
import { KitchenStream, type StreamStatus } from "@/lib/sse";

import { DISPLAY_STREAM_PATH, displayFetcher, fetchDisplayBoard } from "../api/display";
import { applyDisplayEvent, fromSnapshot, type DisplayState } from "./display-state";

const SNAPSHOT_RETRY_MS = 3000;

export interface DisplayBoard {
  state: DisplayState;
  status: StreamStatus | "loading";
}

/**
 * The snapshot, then the display stream from the snapshot's position: the same SSE
 * reader as the kitchen board (src/lib/sse.ts), so a dropped network resumes from the
 * last event seen and nothing is missed or shown twice. `onRefused` is called when the
 * token is refused (revoked, or never valid).
 */
export function useDisplayBoard(token: string, onRefused: (error: ApiError) => void): DisplayBoard {
  const [state, setState] = useState<DisplayState>({});
  const [status, setStatus] = useState<StreamStatus | "loading">("loading");
  const current = useRef<DisplayState>({});
  const refused = useRef(onRefused);
  refused.current = onRefused;

  useEffect(() => {
    let stream: KitchenStream | null = null;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const online = () => stream?.reconnectNow();

    const load = async () => {
      try {
        const snapshot = await fetchDisplayBoard(token);
        if (stopped) return;
        current.current = fromSnapshot(snapshot);
        setState(current.current);
        stream = new KitchenStream({
          path: DISPLAY_STREAM_PATH,
          fetcher: displayFetcher(token),
          onEvent: (event) => {
            const next = applyDisplayEvent(current.current, event, Date.now());
            current.current = next.state;
            setState(next.state);
            if (next.turnedReady) playChime();
          },
          onStatus: (s) => setStatus(s),
          onFatal: (error) => refused.current(error),
        });
        stream.lastSeq = snapshot.last_event_id; // the stream starts where the snapshot ends
        stream.start();
      } catch (error) {
        if (stopped) return;
        if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
          refused.current(error);
          return;
        }
        setStatus("reconnecting");
        timer = setTimeout(() => void load(), SNAPSHOT_RETRY_MS);
      }
    };
    void load();
    globalThis.addEventListener?.("online", online);
    return () => {
      stopped = true;
      clearTimeout(timer);
      stream?.stop();
      globalThis.removeEventListener?.("online", online);
    };
  }, [token]);

  return { state, status };
}

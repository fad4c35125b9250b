import { useEffect, useState, type FormEvent } from "react";

import { Button } from "@/components/Button";
import { Field } from "@/components/Field";
import type { ApiError } from "@/lib/api";
import { soundBlocked, unlockSound } from "@/lib/chime";

import { columns, shortNumber, type ShownOrder } from "../hooks/display-state";
import { useDisplayBoard } from "../hooks/use-display-board";
import "../styles/display.css";

export const TOKEN_KEY = "canteen.display.token";
const HIGHLIGHT_MS = 15_000;

/** The token from the URL fragment (`#token=…`, then removed from the address bar and
 * kept in localStorage), or the one kept from before. */
export function readDisplayToken(): string | null {
  const fragment = new URLSearchParams(globalThis.location?.hash.replace(/^#/, "") ?? "");
  const fromUrl = fragment.get("token");
  if (fromUrl) {
    localStorage.setItem(TOKEN_KEY, fromUrl);
    globalThis.history?.replaceState(null, "", globalThis.location.pathname + globalThis.location.search);
    return fromUrl;
  }
  return localStorage.getItem(TOKEN_KEY);
}

/**
 * The order-status screen for a TV at the counter: order numbers preparing and ready,
 * live, with a chime and a highlight when one turns ready. No names, phones, items or
 * pickup codes ever reach it: the API gives the display only numbers and statuses.
 */
export function DisplayPage() {
  const [token, setToken] = useState<string | null>(() => readDisplayToken());
  const [refusal, setRefusal] = useState<string | null>(null);
  if (!token) {
    return (
      <TokenForm
        message={refusal}
        onSave={(value) => {
          localStorage.setItem(TOKEN_KEY, value);
          setRefusal(null);
          setToken(value);
        }}
      />
    );
  }
  return (
    <DisplayBoardView
      key={token}
      token={token}
      onRefused={(error) => {
        localStorage.removeItem(TOKEN_KEY);
        setRefusal(error.message);
        setToken(null);
      }}
    />
  );
}

function DisplayBoardView({ token, onRefused }: { token: string; onRefused: (error: ApiError) => void }) {
  const { state, status } = useDisplayBoard(token, onRefused);
  const [now, setNow] = useState(() => Date.now());
  const [muted, setMuted] = useState(() => soundBlocked());
  useEffect(() => {
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(tick);
  }, []);
  const { preparing, ready } = columns(state);
  return (
    <main className="display-screen" aria-label="Order status">
      <section className="display-column display-preparing" aria-labelledby="display-preparing">
        <h1 id="display-preparing">Preparing</h1>
        <NumberList orders={preparing} now={now} />
      </section>
      <section className="display-column display-ready" aria-labelledby="display-ready">
        <h1 id="display-ready">Ready</h1>
        <NumberList orders={ready} now={now} />
      </section>
      <footer className="display-footer">
        {status === "live" ? null : (
          <span className="display-status" role="status">
            {status === "loading" || status === "connecting" ? "Connecting…" : "Reconnecting…"}
          </span>
        )}
        {muted ? (
          <Button
            size="sm"
            variant="ghost"
            onClick={() => {
              unlockSound();
              setMuted(false);
            }}
          >
            Turn the chime on
          </Button>
        ) : null}
      </footer>
    </main>
  );
}

function NumberList({ orders, now }: { orders: ShownOrder[]; now: number }) {
  return (
    <ol className="display-numbers">
      {orders.map((o) => {
        const fresh = o.status === "ready" && o.readyAt > 0 && now - o.readyAt < HIGHLIGHT_MS;
        return (
          <li
            key={o.id}
            className={fresh ? "display-number display-number-fresh" : "display-number"}
            data-order-number={o.number}
          >
            {shortNumber(o.number)}
          </li>
        );
      })}
    </ol>
  );
}

function TokenForm({ message, onSave }: { message: string | null; onSave: (token: string) => void }) {
  const [value, setValue] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (value.trim()) onSave(value.trim());
  };
  return (
    <main className="display-setup">
      <form className="card" onSubmit={submit} aria-labelledby="display-setup-title">
        <h1 id="display-setup-title">Order-status display</h1>
        {message ? (
          <p className="notice notice-warn" role="alert">
            {message}
          </p>
        ) : null}
        <Field label="Display token" hint="An admin creates one under Settings → Order-status displays.">
          <input value={value} onChange={(e) => setValue(e.target.value)} autoComplete="off" spellCheck={false} />
        </Field>
        <div className="form-actions">
          <Button type="submit" variant="primary" disabled={!value.trim()}>
            Show orders
          </Button>
        </div>
      </form>
    </main>
  );
}

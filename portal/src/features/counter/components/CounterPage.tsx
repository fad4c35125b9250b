import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useRef, useState } from "react";

import { Button } from "@/components/Button";
import { toast } from "@/components/Toasts";
import { errorMessage } from "@/lib/api";
import type { KitchenOrder } from "@/lib/api-types";
import { formatPaise } from "@/lib/money";
import { paymentLabel } from "@/lib/status";

import { NotCollected } from "@/features/board/components/NotCollected";
import { useRefreshOnFeed } from "@/features/board/hooks/use-feed-refresh";

import { cashDue, fetchReadyPickups, findByPickupCode, handOver } from "../api/counter";
import { QrScanner } from "./QrScanner";
import "./counter.css";

const READY_KEY = ["counter", "ready"];

function PaymentState({ order }: { order: KitchenOrder }) {
  const due = cashDue(order);
  if (due !== null) return <p className="counter-collect">Collect {formatPaise(due)}</p>;
  return <p className="counter-paid">{paymentLabel(order.payment_status, order.status)}</p>;
}

function Match({ order, code, onDone }: { order: KitchenOrder; code: string; onDone: () => void }) {
  const client = useQueryClient();
  const give = useMutation({
    mutationFn: () => handOver(order.id, code),
    onSuccess: (done) => {
      const cash = cashDue(order);
      toast(
        cash === null ? `Handed over ${done.number}` : `Handed over ${done.number} · ${formatPaise(cash)} collected`,
      );
      void client.invalidateQueries({ queryKey: READY_KEY });
      onDone();
    },
  });
  return (
    <section className="card counter-match" aria-label={`Order ${order.number}`}>
      <h2 className="counter-number">{order.number}</h2>
      <p className="muted">{order.customer.name ?? "Customer"}</p>
      <ul className="counter-items">
        {order.items.map((line) => (
          <li key={`${line.menu_item_id}-${line.notes ?? ""}`}>
            <span className="counter-qty">{line.quantity} ×</span> {line.name}
            {line.notes ? <span className="muted"> · {line.notes}</span> : null}
          </li>
        ))}
      </ul>
      {order.instructions ? <p className="muted">Note: {order.instructions}</p> : null}
      <PaymentState order={order} />
      {give.isError ? (
        <p role="alert" className="counter-error">
          {errorMessage(give.error)}
        </p>
      ) : null}
      <Button variant="success" size="lg" busy={give.isPending} onClick={() => give.mutate()}>
        Hand over
      </Button>
    </section>
  );
}

function ReadyQueue() {
  // Live: read again after each burst of kitchen events; the slow poll only covers a feed
  // that is down (the layout's banner says so).
  const ready = useQuery({ queryKey: READY_KEY, queryFn: fetchReadyPickups, refetchInterval: 30_000 });
  useRefreshOnFeed(READY_KEY);
  const orders = ready.data ?? [];
  return (
    <section className="counter-queue" aria-labelledby="counter-ready">
      <h2 id="counter-ready">Ready for pickup ({orders.length})</h2>
      {ready.isError ? <p className="counter-error">{errorMessage(ready.error)}</p> : null}
      {ready.isSuccess && orders.length === 0 ? <p className="muted">Nothing is waiting.</p> : null}
      <ol className="counter-ready-list">
        {orders.map((o) => (
          <li key={o.id}>
            <span className="counter-ready-number">{o.number.split("-").pop()}</span>
            <span className="counter-ready-name">{o.customer.name ?? ""}</span>
            {cashDue(o) !== null ? <span className="tag tag-warn">Cash {formatPaise(o.total)}</span> : null}
          </li>
        ))}
      </ol>
    </section>
  );
}

export function CounterPage() {
  const [code, setCode] = useState("");
  const [asked, setAsked] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [scanning, setScanning] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const lookup = useMutation({ mutationFn: findByPickupCode });

  const find = (value: string) => {
    lookup.reset();
    setAsked(null);
    if (!/^\d{4}$/.test(value)) {
      setProblem("A pickup code is 4 digits.");
      return;
    }
    setProblem(null);
    setAsked(value);
    lookup.mutate(value);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    find(code.trim());
  };
  const reset = () => {
    setCode("");
    setAsked(null);
    lookup.reset();
    input.current?.focus();
  };

  const matches = lookup.data ?? [];
  return (
    <div className="page counter">
      <div className="counter-main">
        <h1>Counter</h1>
        <form onSubmit={submit} className="counter-form">
          <label htmlFor="counter-code">Pickup code</label>
          <div className="counter-row">
            <input
              id="counter-code"
              ref={input}
              className="counter-input"
              inputMode="numeric"
              autoComplete="off"
              maxLength={4}
              autoFocus
              value={code}
              onChange={(e) => setCode(e.target.value.replace(/\D/g, ""))}
              aria-describedby="counter-hint"
            />
            <Button type="submit" variant="primary" size="lg" busy={lookup.isPending}>
              Find
            </Button>
            <Button size="lg" onClick={() => setScanning((on) => !on)} aria-pressed={scanning}>
              Scan QR
            </Button>
          </div>
          <p id="counter-hint" className="muted">
            Type the 4 digits the customer says, or scan the QR code in their app.
          </p>
        </form>
        {scanning ? (
          <QrScanner
            onClose={() => setScanning(false)}
            onCode={(scanned) => {
              setScanning(false);
              setCode(scanned);
              find(scanned);
            }}
          />
        ) : null}
        {problem ? (
          <p role="alert" className="counter-error">
            {problem}
          </p>
        ) : null}
        {lookup.isError ? (
          <p role="alert" className="counter-error">
            {errorMessage(lookup.error)}. Nothing was changed.
          </p>
        ) : null}
        {matches.length > 1 ? (
          <p className="notice">Two ready orders share this code: ask for the order number.</p>
        ) : null}
        {asked ? matches.map((o) => <Match key={o.id} order={o} code={asked} onDone={reset} />) : null}
        {/* A student who comes after the window: their order is listed here, not found as ready. */}
        <NotCollected />
      </div>
      <ReadyQueue />
    </div>
  );
}

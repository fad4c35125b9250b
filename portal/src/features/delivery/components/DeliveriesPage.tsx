import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";

import { Button } from "@/components/Button";
import { toast } from "@/components/Toasts";
import { errorMessage } from "@/lib/api";
import type { KitchenOrder } from "@/lib/api-types";
import { formatPaise } from "@/lib/money";
import { statusLabel } from "@/lib/status";

import { delivered, fetchMyDeliveries, pickedUp } from "../api/deliveries";

const KEY = ["deliveries", "mine"];

function DeliveredForm({ order }: { order: KitchenOrder }) {
  const client = useQueryClient();
  const [code, setCode] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const done = useMutation({
    mutationFn: (value: string) => delivered(order.id, value),
    onSuccess: (o) => {
      toast(`Delivered ${o.number}`);
      void client.invalidateQueries({ queryKey: KEY });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    done.reset();
    if (!/^\d{4}$/.test(code)) {
      setProblem("Ask the customer for their 4-digit code.");
      return;
    }
    setProblem(null);
    done.mutate(code);
  };
  const id = `code-${order.id}`;
  return (
    <form onSubmit={submit} className="delivery-proof">
      <label htmlFor={id}>Customer&apos;s code</label>
      <input
        id={id}
        className="delivery-code"
        inputMode="numeric"
        autoComplete="off"
        maxLength={4}
        value={code}
        onChange={(e) => setCode(e.target.value.replace(/\D/g, ""))}
      />
      <Button type="submit" variant="success" size="lg" busy={done.isPending}>
        Delivered
      </Button>
      {problem || done.isError ? (
        <p role="alert" className="delivery-error">
          {problem ?? `${errorMessage(done.error)}. Nothing was changed.`}
        </p>
      ) : null}
    </form>
  );
}

function DeliveryCard({ order }: { order: KitchenOrder }) {
  const client = useQueryClient();
  const pick = useMutation({
    mutationFn: () => pickedUp(order.id),
    onSuccess: () => void client.invalidateQueries({ queryKey: KEY }),
  });
  const due = order.payment_method === "cash" && order.payment_status === "cash_due";
  return (
    <li className="card delivery-card" aria-label={`Order ${order.number}`}>
      <div className="delivery-head">
        <strong className="delivery-number">{order.number}</strong>
        <span className={`status status-${order.status}`}>{statusLabel(order.status)}</span>
      </div>
      <p className="delivery-address">{order.delivery_address ?? "No address given"}</p>
      <p>
        {order.customer.name ?? "Customer"} ·{" "}
        <a className="btn btn-secondary btn-sm" href={`tel:${order.customer.phone}`}>
          Call {order.customer.phone}
        </a>
      </p>
      <ul className="delivery-items">
        {order.items.map((line) => (
          <li key={`${line.menu_item_id}-${line.notes ?? ""}`}>
            {line.quantity} × {line.name}
          </li>
        ))}
      </ul>
      {order.instructions ? <p className="muted">Note: {order.instructions}</p> : null}
      <p className={due ? "delivery-collect" : "delivery-paid"}>
        {due ? `Collect ${formatPaise(order.total)}` : "Paid: collect nothing"}
      </p>
      {order.allowed_next.includes("out_for_delivery") ? (
        <Button variant="primary" size="lg" busy={pick.isPending} onClick={() => pick.mutate()}>
          Picked up
        </Button>
      ) : null}
      {pick.isError ? (
        <p role="alert" className="delivery-error">
          {errorMessage(pick.error)}
        </p>
      ) : null}
      {order.status === "out_for_delivery" ? <DeliveredForm order={order} /> : null}
      {!order.allowed_next.length && order.status !== "out_for_delivery" ? (
        <p className="muted">Being prepared: pick it up once it is ready.</p>
      ) : null}
    </li>
  );
}

export function DeliveriesPage() {
  const mine = useQuery({ queryKey: KEY, queryFn: fetchMyDeliveries, refetchInterval: 10_000 });
  return (
    <div className="delivery-page">
      <h1>My deliveries</h1>
      {mine.isPending ? <p>Loading…</p> : null}
      {mine.isError ? (
        <p role="alert" className="delivery-error">
          {errorMessage(mine.error)}
        </p>
      ) : null}
      {mine.isSuccess && mine.data.length === 0 ? <p className="muted">Nothing assigned to you right now.</p> : null}
      <ul className="delivery-list">
        {(mine.data ?? []).map((o) => (
          <DeliveryCard key={o.id} order={o} />
        ))}
      </ul>
    </div>
  );
}

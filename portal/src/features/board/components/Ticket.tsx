import { memo, useState } from "react";

import { Button } from "@/components/Button";
import { ErrorSummary } from "@/components/ErrorSummary";
import type { KitchenOrder, StaffTarget } from "@/lib/api-types";
import { formatPaise } from "@/lib/money";
import { awaitingPayment, paymentLabel } from "@/lib/status";
import { useStore } from "@/lib/store";
import { formatAge, formatClock } from "@/lib/time";

import { recallable, recentStore } from "../hooks/recall";
import { useLineDone } from "../hooks/use-line-done";
import type { AgeLevel } from "../types";
import { optionNames } from "../hooks/board-state";
import { PrintButton } from "@/features/printing/components/PrintButton";

import { useTicketAction } from "../hooks/use-ticket-actions";
import { RecallDialog } from "./RecallDialog";
import { StockDialog } from "./StockDialog";
import { AssignDialog, CancelDialog, HandoverDialog } from "./TicketDialogs";

interface TicketProps {
  order: KitchenOrder;
  age: number;
  level: AgeLevel;
  fresh: boolean;
  /** The board's clock (ms), for the recall window. */
  now?: number;
  /** Stations exist: lines carry done marks. */
  stations?: StationLines;
}

export interface StationLines {
  /** Positions of the lines this view shows (one station's), or every line. */
  visible: number[];
  /** Positions marked done (by any station). */
  done: number[];
}

type Open = "cancel" | "handover" | "assign" | "stock" | "recall" | null;

const LEVEL_TEXT: Record<AgeLevel, string> = { ok: "", warn: "getting old", late: "late" };

/** The one-click buttons for the transitions the API allows (`allowed_next`). */
function primaryActions(order: KitchenOrder): { target: StaffTarget; label: string; variant: "primary" | "success" }[] {
  const next = new Set(order.allowed_next);
  const out: { target: StaffTarget; label: string; variant: "primary" | "success" }[] = [];
  if (next.has("preparing")) out.push({ target: "preparing", label: "Start preparing", variant: "primary" });
  if (next.has("ready")) out.push({ target: "ready", label: "Mark ready", variant: "primary" });
  if (next.has("out_for_delivery")) out.push({ target: "out_for_delivery", label: "Send out", variant: "primary" });
  if (next.has("completed")) {
    out.push({
      target: "completed",
      label: order.order_type === "pickup" ? "Hand over…" : "Delivered",
      variant: "success",
    });
  }
  return out;
}

function TicketView({ order, age, level, fresh, now = Date.now(), stations }: TicketProps) {
  const lineDone = useLineDone(order.id);
  const open_ = order.status === "confirmed" || order.status === "preparing";
  const allDone = Boolean(stations) && open_ && (stations?.done.length ?? 0) >= order.items.length;
  const action = useTicketAction(order.id);
  const [open, setOpen] = useState<Open>(null);
  const unpaid = awaitingPayment(order) && order.status === "received";
  const customerCancelled = order.status === "cancelled" && order.cancelled_by === "customer";
  const move = useStore(recentStore)[order.id];
  const canRecall = order.status === "ready" && move?.to === "ready" && recallable(move, now);
  const headingId = `ticket-${order.id}`;
  const canAssign = order.order_type === "delivery" && ["confirmed", "preparing", "ready"].includes(order.status);

  const show = (which: Open) => {
    action.reset();
    setOpen(which);
  };
  const close = () => setOpen(null);
  const run = (
    payload: Parameters<typeof action.mutate>[0],
    { closeOnSuccess = true }: { closeOnSuccess?: boolean } = {},
  ) =>
    action.mutate(payload, {
      onSuccess: () => {
        if (closeOnSuccess) setOpen(null);
      },
    });

  const className = [
    "ticket",
    `ticket-${level}`,
    fresh ? "ticket-fresh" : "",
    unpaid ? "ticket-unpaid" : "",
    customerCancelled ? "ticket-cancelled" : "",
  ]
    .filter(Boolean)
    .join(" ");

  return (
    <li className={className} data-order-number={order.number}>
      <article aria-labelledby={headingId}>
        <header className="ticket-head">
          <h3 id={headingId} className="ticket-number">
            {order.number.replace(/^ORD-\d{8}-/, "#")}
            <span className="visually-hidden"> ({order.number})</span>
          </h3>
          <span className={`ticket-age age-${level}`} title={`Placed at ${formatClock(order.created_at)}`}>
            <span className="visually-hidden">Waiting </span>
            {formatAge(age)}
            {LEVEL_TEXT[level] ? <span className="visually-hidden">, {LEVEL_TEXT[level]}</span> : null}
          </span>
        </header>
        {fresh ? <p className="ticket-new-flag">New</p> : null}
        {customerCancelled ? (
          <p className="ticket-cancelled-flag" role="alert">
            Cancelled by customer — stop making it
            {order.cancel_reason && order.cancel_reason !== "cancelled by customer" ? (
              <span className="ticket-cancel-reason"> (“{order.cancel_reason}”)</span>
            ) : null}
          </p>
        ) : null}
        <p className="ticket-meta">
          <span className={`tag tag-${order.order_type}`}>{order.order_type === "pickup" ? "Pickup" : "Delivery"}</span>
          {order.time_slot ? <span className="tag">{order.time_slot}</span> : null}
          {order.pickup_window_start ? (
            <span className="tag tag-window" title="The kitchen window this order reserved">
              Window {formatClock(order.pickup_window_start)}
            </span>
          ) : null}
          <span className={`tag pay-${order.payment_status}`}>{paymentLabel(order.payment_status)}</span>
          {order.estimated_ready_at && (order.status === "confirmed" || order.status === "preparing") ? (
            <span className="tag tag-due">Due {formatClock(order.estimated_ready_at)}</span>
          ) : null}
        </p>
        {unpaid ? (
          <p className="ticket-flag" role="note">
            Awaiting UPI payment — do not start yet
          </p>
        ) : null}
        <ul className="ticket-lines" aria-label="Items">
          {order.items.map((line, index) =>
            stations && !stations.visible.includes(index) ? null : (
              <li
                key={`${line.menu_item_id}-${index}`}
                className={stations?.done.includes(index) ? "line-done" : undefined}
              >
                {stations && open_ ? (
                  <button
                    type="button"
                    className="line-done-toggle"
                    aria-pressed={stations.done.includes(index)}
                    aria-label={`${line.name} done`}
                    disabled={lineDone.isPending}
                    onClick={() => lineDone.mutate({ position: index, done: !stations.done.includes(index) })}
                  >
                    {stations.done.includes(index) ? "✓" : "○"}
                  </button>
                ) : stations?.done.includes(index) ? (
                  <span className="line-done-mark" aria-label="done">
                    ✓{" "}
                  </span>
                ) : null}
                <span className="qty">{line.quantity}×</span> <span className="item-name">{line.name}</span>
                {line.options?.length ? (
                  <span className="line-options" aria-label={`Options: ${optionNames(line.options)}`}>
                    {optionNames(line.options)}
                  </span>
                ) : null}
                {line.notes ? <span className="line-note">“{line.notes}”</span> : null}
              </li>
            ),
          )}
        </ul>
        {allDone ? (
          <p className="ticket-all-done" role="status">
            All stations done
          </p>
        ) : null}
        {lineDone.error ? <ErrorSummary error={lineDone.error} /> : null}
        {order.instructions ? <p className="ticket-instructions">Note: {order.instructions}</p> : null}
        <p className="ticket-customer">
          {order.customer.name ?? "Customer"} · {order.customer.phone} · {formatPaise(order.total)}
        </p>
        {order.order_type === "delivery" ? (
          <p className="ticket-delivery">
            {order.delivery_address ? <>To: {order.delivery_address}. </> : null}
            {order.delivery_staff_id ? "Delivery staff assigned." : "No delivery staff assigned yet."}
          </p>
        ) : null}
        {action.error && open === null ? <ErrorSummary error={action.error} /> : null}
        <div className="ticket-actions">
          {primaryActions(order).map(({ target, label, variant }) => (
            <Button
              key={target}
              variant={variant}
              busy={action.isPending && action.variables?.kind === "status" && action.variables.status === target}
              disabled={action.isPending}
              aria-describedby={headingId}
              onClick={() => {
                if (target === "completed" && order.order_type === "pickup") show("handover");
                else {
                  action.reset();
                  run({ kind: "status", status: target });
                }
              }}
            >
              {label}
            </Button>
          ))}
          {canAssign ? (
            <Button onClick={() => show("assign")} disabled={action.isPending} aria-describedby={headingId}>
              {order.delivery_staff_id ? "Reassign…" : "Assign delivery…"}
            </Button>
          ) : null}
          {order.allowed_next.includes("cancelled") ? (
            <Button
              variant="ghost"
              className="ticket-cancel"
              onClick={() => show("cancel")}
              disabled={action.isPending}
              aria-describedby={headingId}
            >
              Cancel…
            </Button>
          ) : null}
        </div>
        {!customerCancelled ? (
          <div className="ticket-tools">
            {canRecall ? (
              <Button size="sm" onClick={() => setOpen("recall")} aria-describedby={headingId}>
                Recall
              </Button>
            ) : null}
            <Button size="sm" variant="ghost" onClick={() => setOpen("stock")} aria-describedby={headingId}>
              86 a dish…
            </Button>
            <PrintButton order={order} describedBy={headingId} />
          </div>
        ) : null}
      </article>
      {open === "recall" && move ? <RecallDialog move={move} open onClose={close} /> : null}
      {open === "stock" ? (
        <StockDialog
          dishes={[
            ...new Map(order.items.map((l) => [l.menu_item_id, { menuItemId: l.menu_item_id, name: l.name }])).values(),
          ]}
          open
          onClose={close}
        />
      ) : null}
      <CancelDialog
        order={order}
        open={open === "cancel"}
        onClose={close}
        busy={action.isPending}
        error={open === "cancel" ? action.error : null}
        onConfirm={(reason) => run({ kind: "status", status: "cancelled", reason })}
      />
      <HandoverDialog
        order={order}
        open={open === "handover"}
        onClose={close}
        busy={action.isPending}
        error={open === "handover" ? action.error : null}
        onConfirm={(pickupCode) => run({ kind: "handover", pickupCode })}
      />
      <AssignDialog
        order={order}
        open={open === "assign"}
        onClose={close}
        busy={action.isPending}
        error={open === "assign" ? action.error : null}
        onConfirm={(staffId) => run({ kind: "assign", staffId })}
      />
    </li>
  );
}

export const Ticket = memo(TicketView);

import { Link, useParams } from "react-router";

import { LoadError, Loading } from "@/components/States";
import type { OrderEvent } from "@/lib/api-types";
import { formatPaise } from "@/lib/money";
import { paymentLabel, statusLabel } from "@/lib/status";
import { formatDateTime } from "@/lib/time";

import { useOrder } from "../hooks/use-orders";

function describe(event: OrderEvent): string {
  const data = event.data as Record<string, unknown>;
  switch (event.type) {
    case "order.created":
      return "Order placed";
    case "order.status_changed": {
      const text = `${statusLabel(String(data.from ?? "?"))} → ${statusLabel(String(data.to ?? event.status ?? "?"))}`;
      return data.reason ? `${text} (reason: ${String(data.reason)})` : text;
    }
    case "order.payment_updated":
      return `Payment: ${paymentLabel(event.payment_status ?? String(data.payment_status ?? ""))}`;
    case "order.recalled":
      // A mistaken kitchen move put back (issue 17): who is in the event's actor.
      return `Recalled: ${statusLabel(String(data.from ?? "?"))} → ${statusLabel(String(data.to ?? "?"))} (reason: ${String(data.reason ?? "")})`;
    case "order.assigned":
      return `Assigned to ${String(data.delivery_staff_name ?? "a delivery staff member")}`;
    default:
      return event.type;
  }
}

export function OrderDetailPage() {
  const { orderId = "" } = useParams();
  const order = useOrder(orderId);
  if (order.isPending) return <Loading />;
  if (order.isError) {
    return (
      <div className="page">
        <p>
          <Link to="/orders">← Orders</Link>
        </p>
        <LoadError error={order.error} retry={() => void order.refetch()} />
      </div>
    );
  }
  const o = order.data;
  return (
    <div className="page order-detail">
      <p>
        <Link to="/orders">← Orders</Link>
      </p>
      <div className="page-head">
        <h1>{o.number}</h1>
        <span className={`status status-${o.status}`}>{statusLabel(o.status)}</span>
      </div>
      <div className="detail-grid">
        <section className="card" aria-labelledby="detail-order">
          <h2 id="detail-order">Order</h2>
          <dl className="facts">
            <dt>Placed</dt>
            <dd>{formatDateTime(o.created_at)}</dd>
            <dt>Customer</dt>
            <dd>
              {o.customer.name ?? "—"} · {o.customer.phone}
            </dd>
            <dt>Type</dt>
            <dd>
              {o.order_type === "pickup" ? "Pickup" : "Delivery"}
              {o.time_slot ? ` · ${o.time_slot}` : ""}
            </dd>
            {o.delivery_address ? (
              <>
                <dt>Address</dt>
                <dd>{o.delivery_address}</dd>
              </>
            ) : null}
            <dt>Payment</dt>
            <dd>
              {o.payment_method === "upi" ? "UPI" : "Cash"} · {paymentLabel(o.payment_status, o.status)}
            </dd>
            {o.estimated_ready_at ? (
              <>
                <dt>Promised</dt>
                <dd>{formatDateTime(o.estimated_ready_at)}</dd>
              </>
            ) : null}
            {o.cancel_reason ? (
              <>
                <dt>Cancel reason</dt>
                <dd>{o.cancel_reason}</dd>
              </>
            ) : null}
            {o.instructions ? (
              <>
                <dt>Instructions</dt>
                <dd>{o.instructions}</dd>
              </>
            ) : null}
            {o.feedback ? (
              <>
                <dt>Feedback</dt>
                <dd>
                  {o.feedback.rating}/5{o.feedback.comment ? ` — ${o.feedback.comment}` : ""}
                </dd>
              </>
            ) : null}
          </dl>
          <table className="table">
            <caption className="visually-hidden">Items</caption>
            <thead>
              <tr>
                <th scope="col">Item</th>
                <th scope="col" className="num">
                  Qty
                </th>
                <th scope="col" className="num">
                  Price
                </th>
                <th scope="col" className="num">
                  Total
                </th>
              </tr>
            </thead>
            <tbody>
              {o.items.map((line, i) => (
                <tr key={`${line.menu_item_id}-${i}`}>
                  <td>
                    {line.name}
                    {line.notes ? <span className="muted"> — {line.notes}</span> : null}
                  </td>
                  <td className="num">{line.quantity}</td>
                  <td className="num">{formatPaise(line.unit_price)}</td>
                  <td className="num">{formatPaise(line.line_total)}</td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              {o.delivery_fee ? (
                <tr>
                  <th scope="row" colSpan={3}>
                    Delivery fee
                  </th>
                  <td className="num">{formatPaise(o.delivery_fee)}</td>
                </tr>
              ) : null}
              <tr>
                <th scope="row" colSpan={3}>
                  Total
                </th>
                <td className="num">{formatPaise(o.total)}</td>
              </tr>
            </tfoot>
          </table>
        </section>
        <section className="card" aria-labelledby="detail-events">
          <h2 id="detail-events">History</h2>
          <ol className="timeline">
            {o.events.map((event) => (
              <li key={event.id}>
                <time dateTime={event.at}>{formatDateTime(event.at)}</time>
                <span>{describe(event)}</span>
              </li>
            ))}
          </ol>
        </section>
      </div>
    </div>
  );
}

import { useMemo, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";

import { Button } from "@/components/Button";
import { Field } from "@/components/Field";
import { Empty, LoadError, Loading } from "@/components/States";
import { formatPaise } from "@/lib/money";
import { ALL_STATUSES, paymentLabel, statusLabel } from "@/lib/status";
import { formatDateTime } from "@/lib/time";

import { PER_PAGE, type OrderFilters } from "../api/orders";
import { useOrderSearch } from "../hooks/use-orders";

function filtersFrom(params: URLSearchParams): OrderFilters {
  return {
    q: params.get("q") ?? "",
    status: params.get("status") ?? "",
    date: params.get("date") ?? "",
    order_type: params.get("order_type") ?? "",
    page: Math.max(1, Number(params.get("page") ?? "1") || 1),
  };
}

/** Order search and history. The filters live in the URL, so a search can be bookmarked. */
export function OrdersPage() {
  const [params, setParams] = useSearchParams();
  const filters = useMemo(() => filtersFrom(params), [params]);
  const [draft, setDraft] = useState(filters);
  const result = useOrderSearch(filters);

  const apply = (next: OrderFilters) => {
    const out = new URLSearchParams();
    for (const [key, value] of Object.entries(next)) {
      if (value && !(key === "page" && value === 1)) out.set(key, String(value));
    }
    setParams(out);
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    apply({ ...draft, page: 1 });
  };
  const total = result.data?.meta.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / PER_PAGE));

  return (
    <div className="page">
      <div className="page-head">
        <h1>Orders</h1>
      </div>
      <form className="filters" onSubmit={submit} role="search" aria-label="Search orders">
        <Field label="Order number or phone">
          <input
            type="search"
            value={draft.q}
            placeholder="ORD-20261101-004 or 98765"
            maxLength={64}
            onChange={(e) => setDraft({ ...draft, q: e.target.value })}
          />
        </Field>
        <Field label="Status">
          <select value={draft.status} onChange={(e) => setDraft({ ...draft, status: e.target.value })}>
            <option value="">Any</option>
            {ALL_STATUSES.map((s) => (
              <option key={s} value={s}>
                {statusLabel(s)}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Date">
          <input type="date" value={draft.date} onChange={(e) => setDraft({ ...draft, date: e.target.value })} />
        </Field>
        <Field label="Type">
          <select value={draft.order_type} onChange={(e) => setDraft({ ...draft, order_type: e.target.value })}>
            <option value="">Any</option>
            <option value="pickup">Pickup</option>
            <option value="delivery">Delivery</option>
          </select>
        </Field>
        <div className="filters-actions">
          <Button type="submit" variant="primary">
            Search
          </Button>
          <Button
            onClick={() => {
              const cleared = { q: "", status: "", date: "", order_type: "", page: 1 };
              setDraft(cleared);
              apply(cleared);
            }}
          >
            Clear
          </Button>
        </div>
      </form>
      {result.isPending ? <Loading /> : null}
      {result.isError ? <LoadError error={result.error} retry={() => void result.refetch()} /> : null}
      {result.data ? (
        result.data.data.length === 0 ? (
          <Empty>No orders match these filters.</Empty>
        ) : (
          <>
            <table className="table orders-table">
              <caption className="visually-hidden">Orders, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Order</th>
                  <th scope="col">Placed</th>
                  <th scope="col">Customer</th>
                  <th scope="col">Items</th>
                  <th scope="col">Type</th>
                  <th scope="col">Status</th>
                  <th scope="col">Payment</th>
                  <th scope="col" className="num">
                    Total
                  </th>
                </tr>
              </thead>
              <tbody>
                {result.data.data.map((order) => (
                  <tr key={order.id}>
                    <td>
                      <Link to={`/orders/${order.id}`}>{order.number}</Link>
                    </td>
                    <td>{formatDateTime(order.created_at)}</td>
                    <td>
                      {order.customer.name ?? "—"}
                      <br />
                      <span className="muted">{order.customer.phone}</span>
                    </td>
                    <td>{order.items.map((l) => `${l.quantity}× ${l.name}`).join(", ")}</td>
                    <td>{order.order_type === "pickup" ? "Pickup" : "Delivery"}</td>
                    <td>
                      <span className={`status status-${order.status}`}>{statusLabel(order.status)}</span>
                    </td>
                    <td>{paymentLabel(order.payment_status, order.status)}</td>
                    <td className="num">{formatPaise(order.total)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <nav className="pager" aria-label="Pages">
              <Button
                size="sm"
                disabled={filters.page <= 1}
                onClick={() => apply({ ...filters, page: filters.page - 1 })}
              >
                Previous
              </Button>
              <span>
                Page {filters.page} of {pages} · {total} orders
              </span>
              <Button
                size="sm"
                disabled={filters.page >= pages}
                onClick={() => apply({ ...filters, page: filters.page + 1 })}
              >
                Next
              </Button>
            </nav>
          </>
        )
      ) : null}
    </div>
  );
}

import { useQuery } from "@tanstack/react-query";
import { Fragment, useState } from "react";

import { Empty, LoadError, Loading } from "@/components/States";
import { formatDateTime } from "@/lib/time";

import { csvPath, fetchCashDrawer, fetchFeedback, fetchRefunds, type Range } from "../api/reports";
import { CsvButton } from "./CsvButton";
import { money } from "./format";

/** Per day: cash due, cash collected and by whom; a day that does not balance stands out. */
export function CashDrawerView({ range }: { range: Range }) {
  const query = useQuery({ queryKey: ["reports", "cash", range], queryFn: () => fetchCashDrawer(range) });
  if (query.isPending) return <Loading />;
  if (query.isError) return <LoadError error={query.error} retry={() => void query.refetch()} />;
  const days = query.data;
  return (
    <>
      <div className="report-actions">
        <CsvButton path={csvPath("cash-drawer", { ...range })} />
      </div>
      {days.length === 0 ? (
        <Empty>No cash orders in these days.</Empty>
      ) : (
        <table className="table" aria-label="Cash drawer">
          <thead>
            <tr>
              <th scope="col">Day / staff</th>
              <th scope="col" className="num">
                Handed over
              </th>
              <th scope="col" className="num">
                Collected
              </th>
              <th scope="col" className="num">
                Due
              </th>
              <th scope="col" className="num">
                Difference
              </th>
            </tr>
          </thead>
          <tbody>
            {days.map((d) => (
              <Fragment key={d.day}>
                <tr className={d.difference ? "row-alert" : undefined} data-testid={`cash-${d.day}`}>
                  <th scope="row">{d.day}</th>
                  <td className="num">{d.staff.reduce((n, s) => n + s.handed_over, 0)}</td>
                  <td className="num">{money(d.collected)}</td>
                  <td className="num">{money(d.due)}</td>
                  <td className={`num${d.difference ? " difference-alert" : ""}`}>
                    {d.difference ? money(d.difference) : "balanced"}
                  </td>
                </tr>
                {d.staff.map((s) => (
                  <tr key={`${d.day}-${s.staff_id ?? "none"}`}>
                    <td>— {s.name}</td>
                    <td className="num">{s.handed_over}</td>
                    <td className="num">{money(s.collected)}</td>
                    <td />
                    <td />
                  </tr>
                ))}
              </Fragment>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

export function RefundsView({ range }: { range: Range }) {
  const query = useQuery({ queryKey: ["reports", "refunds", range], queryFn: () => fetchRefunds(range) });
  if (query.isPending) return <Loading />;
  if (query.isError) return <LoadError error={query.error} retry={() => void query.refetch()} />;
  const { rows, total } = query.data;
  return (
    <>
      <div className="report-actions">
        <CsvButton path={csvPath("refunds", { ...range })} />
        {total > rows.length ? (
          <span className="muted">
            Showing {rows.length} of {total}; the CSV has them all.
          </span>
        ) : null}
      </div>
      {rows.length === 0 ? (
        <Empty>No refunds in these days.</Empty>
      ) : (
        <table className="table" aria-label="Refunds">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Order</th>
              <th scope="col" className="num">
                Amount
              </th>
              <th scope="col">Reason</th>
              <th scope="col">State</th>
              <th scope="col">Gateway id</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={`${r.order_id}-${r.at}`}>
                <td>{formatDateTime(r.at)}</td>
                <th scope="row">{r.order_number}</th>
                <td className="num">{money(r.amount)}</td>
                <td>{r.reason}</td>
                <td>{r.status}</td>
                <td>{r.gateway_refund_id ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

export function FeedbackView({ range }: { range: Range }) {
  const [rating, setRating] = useState<number | null>(null);
  const query = useQuery({
    queryKey: ["reports", "feedback", range, rating],
    queryFn: () => fetchFeedback(range, rating),
  });
  return (
    <>
      <div className="report-actions report-controls">
        <label>
          Rating
          <select
            value={rating ?? ""}
            onChange={(e) => setRating(e.target.value ? Number(e.target.value) : null)}
            aria-label="Rating"
          >
            <option value="">Any</option>
            {[5, 4, 3, 2, 1].map((n) => (
              <option key={n} value={n}>
                {n} ★
              </option>
            ))}
          </select>
        </label>
        <CsvButton path={csvPath("feedback", { ...range, rating })} />
      </div>
      {query.isPending ? (
        <Loading />
      ) : query.isError ? (
        <LoadError error={query.error} retry={() => void query.refetch()} />
      ) : query.data.rows.length === 0 ? (
        <Empty>No feedback in these days.</Empty>
      ) : (
        <table className="table" aria-label="Feedback">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Order</th>
              <th scope="col" className="num">
                Rating
              </th>
              <th scope="col">Comment</th>
              <th scope="col">Items</th>
            </tr>
          </thead>
          <tbody>
            {query.data.rows.map((f) => (
              <tr key={f.order_id}>
                <td>{formatDateTime(f.at)}</td>
                <th scope="row">{f.order_number}</th>
                <td className="num">{f.rating} ★</td>
                <td>{f.comment ?? "—"}</td>
                <td>{f.items}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

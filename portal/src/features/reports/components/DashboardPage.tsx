import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

import { Empty, LoadError, Loading } from "@/components/States";
import { formatClock } from "@/lib/time";

import type { Dashboard, Figures } from "../api/reports";
import { useLiveDashboard } from "../hooks/use-live-dashboard";
import { FigureCard } from "./FigureCard";
import { formatDuration, formatRating, money } from "./format";
import "./reports.css";

const count = (n: number) => String(n);
const rating = (n: number) => formatRating(n);

function FigureGrid({ now, then }: { now: Figures; then: Figures }) {
  const cards: [string, number | null, number | null, (n: number) => string, boolean?][] = [
    ["Orders", now.orders, then.orders, count],
    ["Net revenue", now.net_revenue, then.net_revenue, money],
    ["UPI", now.revenue_upi, then.revenue_upi, money],
    ["Cash", now.revenue_cash, then.revenue_cash, money],
    ["Refunded", now.refunded, then.refunded, money, true],
    ["Average prep", now.avg_prep_seconds, then.avg_prep_seconds, formatDuration, true],
    ["90% ready within", now.p90_prep_seconds, then.p90_prep_seconds, formatDuration, true],
    ["Late tickets", now.late, then.late, count, true],
    ["Cancelled", now.cancelled, then.cancelled, count, true],
    ["Uncollected", now.uncollected, then.uncollected, count, true],
    ["Average rating", now.avg_rating, then.avg_rating, rating],
  ];
  return (
    <div className="figure-grid">
      {cards.map(([label, a, b, show, lowerIsBetter]) => (
        <FigureCard key={label} label={label} now={a} then={b} show={show} lowerIsBetter={lowerIsBetter} />
      ))}
    </div>
  );
}

function QuarterHourChart({ dashboard }: { dashboard: Dashboard }) {
  if (dashboard.per_quarter_hour.length === 0) return <Empty>No orders yet today.</Empty>;
  return (
    <div className="chart" role="img" aria-label="Orders per 15 minutes today and last week">
      <ResponsiveContainer width="100%" height={240} initialDimension={{ width: 720, height: 240 }}>
        <BarChart data={dashboard.per_quarter_hour} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="start" interval="preserveStartEnd" />
          <YAxis allowDecimals={false} />
          <Tooltip />
          <Legend />
          <Bar dataKey="orders" name="Today" fill="var(--chart-now, #2f6f4f)" isAnimationActive={false} />
          <Bar dataKey="last_week" name="Last week" fill="var(--chart-then, #b8c4bd)" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

export function DashboardPage() {
  const query = useLiveDashboard();
  if (query.isPending) return <Loading label="Loading today's figures…" />;
  if (query.isError) return <LoadError error={query.error} retry={() => void query.refetch()} />;
  const d = query.data;
  return (
    <div className="page reports-page">
      <header className="page-head">
        <h1>Today</h1>
        <p className="muted">
          {d.today} until {formatClock(d.now)} against {d.last_week_day} until the same time ({d.time_zone}). Live: it
          updates as the kitchen works.
        </p>
      </header>
      <FigureGrid now={d.figures} then={d.last_week} />
      <section className="card" aria-labelledby="per-quarter">
        <h2 id="per-quarter">Orders per 15 minutes</h2>
        <QuarterHourChart dashboard={d} />
      </section>
      <div className="reports-columns">
        <section className="card" aria-labelledby="top-dishes">
          <h2 id="top-dishes">Top dishes</h2>
          {d.top_dishes.length === 0 ? (
            <Empty>Nothing sold yet today.</Empty>
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Dish</th>
                  <th scope="col" className="num">
                    Sold
                  </th>
                  <th scope="col" className="num">
                    Sales
                  </th>
                </tr>
              </thead>
              <tbody>
                {d.top_dishes.map((dish) => (
                  <tr key={dish.key}>
                    <th scope="row">{dish.label}</th>
                    <td className="num">{dish.quantity}</td>
                    <td className="num">{money(dish.sales)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section className="card" aria-labelledby="cancellations">
          <h2 id="cancellations">Cancellations</h2>
          {d.cancellations.length === 0 ? (
            <Empty>No cancellations today.</Empty>
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">By</th>
                  <th scope="col">Why</th>
                  <th scope="col" className="num">
                    Orders
                  </th>
                </tr>
              </thead>
              <tbody>
                {d.cancellations.map((c) => (
                  <tr key={`${c.cancelled_by}-${c.reason}`}>
                    <th scope="row">{c.cancelled_by || "—"}</th>
                    <td>{c.reason || "—"}</td>
                    <td className="num">{c.count}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>
    </div>
  );
}

import { useQuery } from "@tanstack/react-query";
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

import { Empty, LoadError, Loading } from "@/components/States";

import { csvPath, fetchDishes, fetchSales, type DishGroup, type Range, type SalesGroup } from "../api/reports";
import { CsvButton } from "./CsvButton";
import { formatDuration, formatRating, money } from "./format";

export const SALES_GROUPS: Record<SalesGroup, string> = {
  day: "Day",
  time_slot: "Time slot",
  hour: "Hour of the day",
  payment_method: "Payment method",
  order_type: "Order type",
};
export const DISH_GROUPS: Record<DishGroup, string> = { dish: "Dish", category: "Category" };

function Chart({ rows, name }: { rows: { label: string; value: number }[]; name: string }) {
  if (rows.length < 2) return null;
  return (
    <div className="chart" role="img" aria-label={`${name} by group`}>
      <ResponsiveContainer width="100%" height={220} initialDimension={{ width: 720, height: 220 }}>
        <BarChart data={rows} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="label" interval="preserveStartEnd" />
          <YAxis />
          <Tooltip />
          <Bar dataKey="value" name={name} fill="var(--chart-now, #2f6f4f)" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

export function SalesTable({ range, group }: { range: Range; group: SalesGroup }) {
  const query = useQuery({ queryKey: ["reports", "sales", range, group], queryFn: () => fetchSales(range, group) });
  if (query.isPending) return <Loading />;
  if (query.isError) return <LoadError error={query.error} retry={() => void query.refetch()} />;
  const { rows, totals } = query.data;
  const line = (label: string, f: typeof totals) => [
    label,
    f.orders,
    money(f.net_revenue),
    money(f.revenue_upi),
    money(f.revenue_cash),
    money(f.refunded),
    formatDuration(f.avg_prep_seconds),
    formatDuration(f.p90_prep_seconds),
    f.late,
    f.cancelled,
    f.uncollected,
    formatRating(f.avg_rating),
  ];
  const head = ["", "Orders", "Net", "UPI", "Cash", "Refunded", "Avg prep", "90% within", "Late"];
  head.push("Cancelled", "Uncollected", "Rating");
  head[0] = SALES_GROUPS[group];
  return (
    <>
      <div className="report-actions">
        <CsvButton path={csvPath("sales", { ...range, group })} />
      </div>
      {rows.length === 0 ? (
        <Empty>No orders in these days.</Empty>
      ) : (
        <Chart
          rows={rows.map((r) => ({ label: r.label, value: r.figures.net_revenue / 100 }))}
          name="Net revenue (₹)"
        />
      )}
      <div className="table-scroll">
        <table className="table" aria-label={`Sales by ${SALES_GROUPS[group].toLowerCase()}`}>
          <thead>
            <tr>
              {head.map((h, i) => (
                <th key={h} scope="col" className={i ? "num" : undefined}>
                  {h}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key}>
                {line(r.label, r.figures).map((cell, i) =>
                  i ? (
                    <td key={head[i]} className="num">
                      {cell}
                    </td>
                  ) : (
                    <th key="label" scope="row">
                      {cell}
                    </th>
                  ),
                )}
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              {line("Total", totals).map((cell, i) => (
                <th key={head[i] || "label"} scope={i ? undefined : "row"} className={i ? "num" : undefined}>
                  {cell}
                </th>
              ))}
            </tr>
          </tfoot>
        </table>
      </div>
    </>
  );
}

export function DishTable({ range, group }: { range: Range; group: DishGroup }) {
  const query = useQuery({ queryKey: ["reports", "dishes", range, group], queryFn: () => fetchDishes(range, group) });
  if (query.isPending) return <Loading />;
  if (query.isError) return <LoadError error={query.error} retry={() => void query.refetch()} />;
  const rows = query.data.rows;
  return (
    <>
      <div className="report-actions">
        <CsvButton path={csvPath("dishes", { ...range, group })} />
      </div>
      {rows.length === 0 ? (
        <Empty>Nothing sold in these days.</Empty>
      ) : (
        <Chart rows={rows.slice(0, 12).map((r) => ({ label: r.label, value: r.quantity }))} name="Portions sold" />
      )}
      <table className="table" aria-label={`Sales by ${DISH_GROUPS[group].toLowerCase()}`}>
        <thead>
          <tr>
            <th scope="col">{DISH_GROUPS[group]}</th>
            <th scope="col" className="num">
              Orders
            </th>
            <th scope="col" className="num">
              Sold
            </th>
            <th scope="col" className="num">
              Sales
            </th>
            <th scope="col" className="num">
              Cancelled
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key}>
              <th scope="row">{r.label}</th>
              <td className="num">{r.orders}</td>
              <td className="num">{r.quantity}</td>
              <td className="num">{money(r.sales)}</td>
              <td className="num">{r.cancelled_quantity}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

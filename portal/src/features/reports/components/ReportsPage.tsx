import { Link, useSearchParams } from "react-router";

import { canteenToday } from "@/lib/time";

import type { DishGroup, Range, SalesGroup } from "../api/reports";
import { CashDrawerView, FeedbackView, RefundsView } from "./LedgerViews";
import { DISH_GROUPS, DishTable, SALES_GROUPS, SalesTable } from "./SalesView";
import "./reports.css";

const VIEWS = { sales: "Sales", cash: "Cash drawer", refunds: "Refunds", feedback: "Feedback" } as const;
type View = keyof typeof VIEWS;

function daysBefore(day: string, days: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - days);
  return d.toISOString().slice(0, 10);
}

function isSalesGroup(g: string): g is SalesGroup {
  return g in SALES_GROUPS;
}

function isDishGroup(g: string): g is DishGroup {
  return g in DISH_GROUPS;
}

/** Reports over a range of the canteen's days; the choices live in the URL, so a link shares them. */
export function ReportsPage() {
  const [params, setParams] = useSearchParams();
  const today = canteenToday();
  const view: View = (params.get("view") as View | null) ?? "sales";
  const range: Range = { from: params.get("from") ?? daysBefore(today, 6), to: params.get("to") ?? today };
  const group = params.get("group") ?? "day";
  const set = (changes: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) next.set(k, v);
    setParams(next, { replace: true });
  };
  const link = (v: View) => {
    const next = new URLSearchParams(params);
    next.set("view", v);
    return `?${next.toString()}`;
  };
  return (
    <div className="page reports-page">
      <header className="page-head">
        <h1>Reports</h1>
        <nav aria-label="Reports" className="report-tabs">
          {(Object.keys(VIEWS) as View[]).map((v) => (
            <Link key={v} to={link(v)} aria-current={v === view ? "page" : undefined} className="btn btn-sm btn-ghost">
              {VIEWS[v]}
            </Link>
          ))}
        </nav>
      </header>
      <form className="report-controls card" onSubmit={(e) => e.preventDefault()} aria-label="Report range">
        <label>
          From
          <input type="date" value={range.from} onChange={(e) => e.target.value && set({ from: e.target.value })} />
        </label>
        <label>
          To
          <input type="date" value={range.to} onChange={(e) => e.target.value && set({ to: e.target.value })} />
        </label>
        {view === "sales" ? (
          <label>
            Group by
            <select value={group} onChange={(e) => set({ group: e.target.value })}>
              {Object.entries({ ...SALES_GROUPS, ...DISH_GROUPS }).map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </label>
        ) : null}
      </form>
      <section className="card" aria-label={VIEWS[view]}>
        {view === "sales" && isSalesGroup(group) ? <SalesTable range={range} group={group} /> : null}
        {view === "sales" && isDishGroup(group) ? <DishTable range={range} group={group} /> : null}
        {view === "cash" ? <CashDrawerView range={range} /> : null}
        {view === "refunds" ? <RefundsView range={range} /> : null}
        {view === "feedback" ? <FeedbackView range={range} /> : null}
      </section>
    </div>
  );
}

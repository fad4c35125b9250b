/** Report answers shaped as the API's (typed from the generated contract). */
import type { CashDay, Dashboard, Figures, SalesReport } from "../api/reports";

export function figures(overrides: Partial<Figures> = {}): Figures {
  return {
    orders: 0,
    revenue_upi: 0,
    revenue_cash: 0,
    refunded: 0,
    net_revenue: 0,
    ready: 0,
    avg_prep_seconds: null,
    p90_prep_seconds: null,
    late: 0,
    cancelled: 0,
    uncollected: 0,
    ratings: 0,
    avg_rating: null,
    ...overrides,
  };
}

export function dashboard(overrides: Partial<Dashboard> = {}): Dashboard {
  return {
    today: "2026-11-10",
    now: "2026-11-10T18:00:00+05:30",
    last_week_day: "2026-11-03",
    time_zone: "Asia/Kolkata",
    figures: figures({
      orders: 5,
      revenue_upi: 10500,
      revenue_cash: 12000,
      refunded: 1500,
      net_revenue: 21000,
      ready: 3,
      avg_prep_seconds: 900,
      p90_prep_seconds: 1320,
      late: 2,
      cancelled: 2,
      ratings: 1,
      avg_rating: 4,
    }),
    last_week: figures({ orders: 1, revenue_cash: 1500, net_revenue: 1500, ready: 1, avg_prep_seconds: 600 }),
    cancellations: [
      { cancelled_by: "customer", reason: "class got extended", count: 1 },
      { cancelled_by: "kitchen", reason: "out of oil", count: 1 },
    ],
    per_quarter_hour: [
      { start: "09:00", orders: 1, last_week: 0 },
      { start: "09:15", orders: 0, last_week: 0 },
      { start: "09:30", orders: 0, last_week: 1 },
    ],
    top_dishes: [
      { key: "d1", label: "Masala Dosa", orders: 2, quantity: 3, sales: 18000, cancelled_quantity: 0 },
      { key: "d2", label: "Cutting Chai", orders: 3, quantity: 3, sales: 4500, cancelled_quantity: 1 },
    ],
    ...overrides,
  };
}

export function salesReport(): SalesReport {
  return {
    from: "2026-11-10",
    to: "2026-11-11",
    group: "day",
    totals: figures({ orders: 7, revenue_upi: 16500, revenue_cash: 18000, refunded: 7500, net_revenue: 27000 }),
    rows: [
      {
        key: "2026-11-10",
        label: "2026-11-10",
        figures: figures({ orders: 7, revenue_upi: 16500, revenue_cash: 12000, refunded: 1500, net_revenue: 27000 }),
      },
      {
        key: "2026-11-11",
        label: "2026-11-11",
        figures: figures({ revenue_cash: 6000, refunded: 6000, cancelled: 1 }),
      },
    ],
  };
}

export function cashDays(): CashDay[] {
  return [
    {
      day: "2026-11-10",
      due: 19500,
      collected: 12000,
      difference: 7500,
      staff: [{ staff_id: "k1", name: "Ravi", handed_over: 1, collected: 12000 }],
    },
    {
      day: "2026-11-12",
      due: 6000,
      collected: 6000,
      difference: 0,
      staff: [{ staff_id: "k2", name: "Asha", handed_over: 1, collected: 6000 }],
    },
  ];
}

/** recharts measures its container; jsdom has no ResizeObserver. */
export function stubResizeObserver(): void {
  globalThis.ResizeObserver ??= class {
    observe() {}
    unobserve() {}
    disconnect() {}
  };
}

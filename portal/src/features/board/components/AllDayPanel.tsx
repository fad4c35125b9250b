import { useState } from "react";

import type { AllDayLine } from "../types";
import { StockDialog } from "./StockDialog";

/** "All day": portions of each item waiting to be made across the active orders. */
export function AllDayPanel({ lines }: { lines: AllDayLine[] }) {
  const total = lines.reduce((sum, l) => sum + l.toMake, 0);
  const [stockOf, setStockOf] = useState<AllDayLine | null>(null);
  return (
    <section className="all-day" aria-labelledby="all-day-title">
      <h2 id="all-day-title">
        All day <span className="count">{total}</span>
      </h2>
      {lines.length === 0 ? (
        <p className="all-day-empty">Nothing waiting to be made.</p>
      ) : (
        <ul className="all-day-list">
          {lines.map((line) => (
            <li key={line.menuItemId} className={line.toMake === 0 ? "all-day-unpaid-only" : undefined}>
              <span className="all-day-qty">{line.toMake}</span>
              <span className="all-day-name">{line.name}</span>
              {line.options.map((option) => (
                <span key={option.name} className="all-day-option">
                  · {option.count} {option.name}
                </span>
              ))}
              {line.awaitingPayment ? <span className="all-day-unpaid">+{line.awaitingPayment} unpaid</span> : null}
              <button
                type="button"
                className="all-day-86"
                aria-label={`86 ${line.name}: sold out or portions left`}
                title="Sold out or portions left"
                onClick={() => setStockOf(line)}
              >
                86
              </button>
            </li>
          ))}
        </ul>
      )}
      {stockOf ? (
        <StockDialog
          key={stockOf.menuItemId}
          dishes={[{ menuItemId: stockOf.menuItemId, name: stockOf.name }]}
          open
          onClose={() => setStockOf(null)}
        />
      ) : null}
    </section>
  );
}

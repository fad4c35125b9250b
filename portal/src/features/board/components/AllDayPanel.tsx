import type { AllDayLine } from "../types";

/** "All day": portions of each item waiting to be made across the active orders. */
export function AllDayPanel({ lines }: { lines: AllDayLine[] }) {
  const total = lines.reduce((sum, l) => sum + l.toMake, 0);
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
              {line.awaitingPayment ? <span className="all-day-unpaid">+{line.awaitingPayment} unpaid</span> : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

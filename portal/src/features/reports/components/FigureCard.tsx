import { change } from "./format";

interface Props {
  label: string;
  now: number | null;
  then: number | null;
  show: (n: number) => string;
  /** When more is worse (late tickets, cancellations), a rise is shown as bad. */
  lowerIsBetter?: boolean;
  hint?: string;
}

/** One of the dashboard's numbers, with last week's beside it. */
export function FigureCard({ label, now, then, show, lowerIsBetter = false, hint }: Props) {
  const diff = now !== null && then !== null ? now - then : 0;
  const good = lowerIsBetter ? diff < 0 : diff > 0;
  const tone = diff === 0 ? "same" : good ? "up" : "down";
  const id = `fig-${label.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  return (
    <section className="figure card" aria-labelledby={id} title={hint}>
      <h3 id={id}>{label}</h3>
      <p className="figure-now" data-testid={id}>
        {now === null ? "—" : show(now)}
      </p>
      <p className="figure-then muted">
        Last week {then === null ? "—" : show(then)}{" "}
        <span className={`figure-change figure-${tone}`}>{change(now, then, show)}</span>
      </p>
    </section>
  );
}

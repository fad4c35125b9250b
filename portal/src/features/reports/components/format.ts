import { formatPaise } from "@/lib/money";

/** "12 min 30 s" for a duration in seconds; "—" when there is none. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.round(seconds);
  const minutes = Math.floor(s / 60);
  if (minutes === 0) return `${s} s`;
  return s % 60 ? `${minutes} min ${s % 60} s` : `${minutes} min`;
}

export function formatRating(rating: number | null | undefined): string {
  return rating === null || rating === undefined ? "—" : `${rating.toFixed(1)} ★`;
}

export function money(paise: number): string {
  return formatPaise(paise);
}

/** "+3", "−₹120.00", "same": a change against last week, in the figure's own unit. */
export function change(now: number | null, then: number | null, show: (n: number) => string): string {
  if (now === null || then === null) return "";
  const d = now - then;
  if (Math.abs(d) < 1e-9) return "same";
  return `${d > 0 ? "+" : "−"}${show(Math.abs(d))}`;
}

/** Times are shown in the canteen's zone (public config `timezone`, Asia/Kolkata by default). */
let zone = "Asia/Kolkata";

export function setCanteenTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat("en-IN", { timeZone }).format(0);
    zone = timeZone;
  } catch {
    // unknown zone: keep the default
  }
}

export function canteenTimeZone(): string {
  return zone;
}

export function formatClock(iso: string | null | undefined): string {
  if (!iso) return "—";
  return new Intl.DateTimeFormat("en-IN", {
    timeZone: zone,
    hour: "2-digit",
    minute: "2-digit",
    hour12: false,
  }).format(new Date(iso));
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  return new Intl.DateTimeFormat("en-IN", {
    timeZone: zone,
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hour12: false,
  }).format(new Date(iso));
}

/** Today's date in the canteen's zone as YYYY-MM-DD (the orders' business date). */
export function canteenToday(now: Date = new Date()): string {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: zone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(now);
  return parts;
}

/** "45 s", "7 min", "1 h 05 min" */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/** "HH:MM:SS" from the API → "HH:MM" for a time input; and back. */
export function toTimeInput(value: string): string {
  return value.slice(0, 5);
}

export function fromTimeInput(value: string): string {
  return value.length === 5 ? `${value}:00` : value;
}

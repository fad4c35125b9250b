import { ApiError, detailMessage, errorMessage, type ErrorDetail } from "@/lib/api";

interface ErrorSummaryProps {
  error: unknown;
  /** Fields shown next to their inputs; the rest of the details are listed here. */
  shownFields?: string[];
  title?: string;
}

function detailText(detail: ErrorDetail): string | null {
  const known =
    typeof detail.message === "string" ||
    typeof detail.issue === "string" ||
    typeof detail.retry_after === "number" ||
    typeof detail.attempts_remaining === "number";
  if (!known) return null;
  const text = detailMessage(detail);
  return typeof detail.field === "string" ? `${fieldName(detail.field)}: ${text}` : text;
}

function fieldName(field: string): string {
  const last = field.split(".").pop() ?? field;
  return last.replace(/_/g, " ").replace(/^\w/, (c) => c.toUpperCase());
}

/** The error contract on screen: the message, every detail not shown by a field, the request id. */
export function ErrorSummary({ error, shownFields = [], title }: ErrorSummaryProps) {
  if (!error) return null;
  const api = error instanceof ApiError ? error : null;
  const details = (api?.details ?? [])
    .filter((d) => {
      const field = typeof d.field === "string" ? d.field.split(".").pop() : undefined;
      return !(field && shownFields.includes(field));
    })
    .map(detailText)
    .filter((t): t is string => Boolean(t));
  return (
    <div className="error-summary" role="alert">
      <p className="error-summary-title">{title ?? errorMessage(error)}</p>
      {title ? <p>{errorMessage(error)}</p> : null}
      {details.length ? (
        <ul>
          {details.map((text) => (
            <li key={text}>{text}</li>
          ))}
        </ul>
      ) : null}
      {api?.requestId ? <p className="error-summary-ref">Reference: {api.requestId}</p> : null}
    </div>
  );
}

/** Messages for one field from an ApiError (empty for anything else). */
export function fieldErrors(error: unknown, field: string): string[] {
  return error instanceof ApiError ? error.fieldMessages(field) : [];
}

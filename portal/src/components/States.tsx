import type { ReactNode } from "react";

import { ErrorSummary } from "./ErrorSummary";
import { Button } from "./Button";

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="loading" role="status">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

export function LoadError({ error, retry }: { error: unknown; retry?: () => void }) {
  return (
    <div className="load-error">
      <ErrorSummary error={error} />
      {retry ? (
        <Button onClick={retry} variant="secondary">
          Try again
        </Button>
      ) : null}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

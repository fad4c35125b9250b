import { useNavigate } from "react-router";

import { useStore } from "@/lib/store";

import { alertStore, dismissAlert } from "../hooks/stores";

/** The visual half of the new-order alert, shown on every page. */
export function NewOrderBanner() {
  const { alerts } = useStore(alertStore);
  const navigate = useNavigate();
  const latest = alerts[alerts.length - 1];
  return (
    <div className="new-order-region" aria-live="assertive" aria-atomic="true">
      {latest ? (
        <div className="new-order-banner" key={latest.orderId}>
          <span className="new-order-bell" aria-hidden="true" />
          <p>
            <strong>New order {latest.number}</strong>
            {latest.items ? <> — {latest.items}</> : null}
            {alerts.length > 1 ? <span className="new-order-more"> (+{alerts.length - 1} more)</span> : null}
          </p>
          <button
            type="button"
            className="btn btn-sm btn-secondary"
            onClick={() => {
              navigate("/board");
              requestAnimationFrame(() => {
                const el = document.querySelector<HTMLElement>(`[data-order-number="${latest.number}"] button`);
                el?.focus();
              });
            }}
          >
            Show
          </button>
          <button
            type="button"
            className="btn btn-sm btn-ghost"
            onClick={() => dismissAlert(latest.orderId)}
            aria-label={`Dismiss the alert for ${latest.number}`}
          >
            Dismiss
          </button>
        </div>
      ) : null}
    </div>
  );
}

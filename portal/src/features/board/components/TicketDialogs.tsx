import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { Button } from "@/components/Button";
import { Dialog } from "@/components/Dialog";
import { ErrorSummary, fieldErrors } from "@/components/ErrorSummary";
import { Field } from "@/components/Field";
import { Loading } from "@/components/States";
import { useIsAdmin } from "@/features/auth/hooks/use-session";
import { ApiError } from "@/lib/api";
import type { KitchenOrder } from "@/lib/api-types";

import { fetchDeliveryStaff } from "../api/orders";

interface ActionDialogProps {
  order: KitchenOrder;
  open: boolean;
  onClose: () => void;
  busy: boolean;
  error: unknown;
}

const QUICK_REASONS = ["An item ran out", "Kitchen is closing", "Customer asked to cancel", "Duplicate order"];

export function CancelDialog({
  order,
  open,
  onClose,
  busy,
  error,
  onConfirm,
}: ActionDialogProps & { onConfirm: (reason: string) => void }) {
  const [reason, setReason] = useState("");
  const [touched, setTouched] = useState(false);
  const missing = touched && !reason.trim();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    if (reason.trim()) onConfirm(reason.trim());
  };
  return (
    <Dialog open={open} onClose={onClose} title={`Cancel ${order.number}?`}>
      <form onSubmit={submit} noValidate>
        <p>The customer is told the reason. A paid UPI order is refunded.</p>
        <div className="chips" role="group" aria-label="Common reasons">
          {QUICK_REASONS.map((text) => (
            <button type="button" key={text} className="chip" onClick={() => setReason(text)}>
              {text}
            </button>
          ))}
        </div>
        <Field
          label="Reason"
          errors={[...(missing ? ["Give a reason for the customer."] : []), ...fieldErrors(error, "reason")]}
        >
          <textarea rows={3} maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} autoFocus />
        </Field>
        <ErrorSummary error={error} shownFields={["reason"]} />
        <div className="dialog-footer">
          <Button onClick={onClose}>Keep order</Button>
          <Button type="submit" variant="danger" busy={busy}>
            Cancel order
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

export function HandoverDialog({
  order,
  open,
  onClose,
  busy,
  error,
  onConfirm,
}: ActionDialogProps & { onConfirm: (code: string) => void }) {
  const [code, setCode] = useState("");
  const valid = /^\d{4}$/.test(code);
  const mismatch = error instanceof ApiError && error.code === "PICKUP_CODE_MISMATCH";
  return (
    <Dialog open={open} onClose={onClose} title={`Hand over ${order.number}`}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (valid) onConfirm(code);
        }}
        noValidate
      >
        <p>Ask {order.customer.name ?? "the customer"} for the 4-digit pickup code on their phone.</p>
        <Field
          label="Pickup code"
          errors={
            mismatch
              ? ["That code does not match this order. Check the order number."]
              : fieldErrors(error, "pickup_code")
          }
        >
          <input
            className="code-input"
            inputMode="numeric"
            autoComplete="off"
            pattern="\d{4}"
            maxLength={4}
            value={code}
            onChange={(e) => setCode(e.target.value.replace(/\D/g, "").slice(0, 4))}
            autoFocus
          />
        </Field>
        {!mismatch ? <ErrorSummary error={error} shownFields={["pickup_code"]} /> : null}
        <div className="dialog-footer">
          <Button onClick={onClose}>Back</Button>
          <Button type="submit" variant="success" busy={busy} disabled={!valid}>
            Hand over
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

export function AssignDialog({
  order,
  open,
  onClose,
  busy,
  error,
  onConfirm,
}: ActionDialogProps & { onConfirm: (staffId: string) => void }) {
  // The staff list is admin-only in the API; the kitchen is told so instead of being refused.
  const admin = useIsAdmin();
  const staff = useQuery({ queryKey: ["staff", "delivery"], queryFn: fetchDeliveryStaff, enabled: open && admin });
  const [choice, setChoice] = useState(order.delivery_staff_id ?? "");
  const forbidden = !admin || (staff.error instanceof ApiError && staff.error.code === "INSUFFICIENT_ROLE");
  return (
    <Dialog open={open} onClose={onClose} title={`Assign ${order.number} for delivery`}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (choice) onConfirm(choice);
        }}
        noValidate
      >
        {order.delivery_address ? (
          <p>
            Deliver to: <strong>{order.delivery_address}</strong>
          </p>
        ) : null}
        {admin && staff.isPending ? <Loading label="Loading delivery staff…" /> : null}
        {forbidden ? (
          <p className="notice">Only an admin can see the delivery staff list. Ask the manager to assign this order.</p>
        ) : staff.error ? (
          <ErrorSummary error={staff.error} />
        ) : null}
        {staff.data ? (
          staff.data.length ? (
            <Field label="Delivery staff member" errors={fieldErrors(error, "staff_id")}>
              <select value={choice} onChange={(e) => setChoice(e.target.value)} autoFocus>
                <option value="">Choose…</option>
                {staff.data.map((u) => (
                  <option key={u.id} value={u.id}>
                    {u.name ?? u.phone}
                  </option>
                ))}
              </select>
            </Field>
          ) : (
            <p className="notice">There are no active delivery staff. Add one on the Staff page.</p>
          )
        ) : null}
        <ErrorSummary error={error} shownFields={["staff_id"]} />
        <div className="dialog-footer">
          <Button onClick={onClose}>Back</Button>
          <Button type="submit" variant="primary" busy={busy} disabled={!choice}>
            Assign
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

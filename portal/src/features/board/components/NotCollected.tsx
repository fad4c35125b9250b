import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { Button } from "@/components/Button";
import { Dialog } from "@/components/Dialog";
import { ErrorSummary, fieldErrors } from "@/components/ErrorSummary";
import { Field } from "@/components/Field";
import { toast } from "@/components/Toasts";
import { useIsAdmin } from "@/features/auth/hooks/use-session";
import type { KitchenOrder } from "@/lib/api-types";
import { formatPaise } from "@/lib/money";
import { paymentLabel } from "@/lib/status";
import { formatClock } from "@/lib/time";

import { fetchNotCollected, notCollectedKey, refundByHand } from "../api/no-shows";

/** A paid UPI order that was not collected keeps its money unless an admin refunds it. */
export function refundable(order: KitchenOrder): boolean {
  return order.payment_method === "upi" && order.payment_status === "captured";
}

/** Today's uncollected orders, apart from the live columns (they are finished). */
export function NotCollected() {
  const query = useQuery({ queryKey: notCollectedKey, queryFn: fetchNotCollected, refetchInterval: 60_000 });
  const admin = useIsAdmin();
  const [refunding, setRefunding] = useState<KitchenOrder | null>(null);
  const orders = query.data ?? [];
  if (orders.length === 0) return null;
  return (
    <section className="recent-moves not-collected" aria-labelledby="not-collected-title">
      <h2 id="not-collected-title">
        Not collected <span className="count">{orders.length}</span>
      </h2>
      <ul>
        {orders.map((order) => (
          <li key={order.id} data-order-number={order.number}>
            <span className="recent-number">{order.number.replace(/^ORD-\d{8}-/, "#")}</span>
            <span className="visually-hidden"> ({order.number})</span> {order.customer.name ?? order.customer.phone} ·{" "}
            {formatPaise(order.total)} · {paymentLabel(order.payment_status, order.status)}
            <span className="recent-left"> · since {formatClock(order.updated_at)}</span>
            {admin && refundable(order) ? (
              <Button size="sm" onClick={() => setRefunding(order)} aria-label={`Refund ${order.number}`}>
                Refund
              </Button>
            ) : null}
          </li>
        ))}
      </ul>
      {refunding ? <RefundDialog key={refunding.id} order={refunding} onClose={() => setRefunding(null)} /> : null}
    </section>
  );
}

function RefundDialog({ order, onClose }: { order: KitchenOrder; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [reason, setReason] = useState("");
  const [touched, setTouched] = useState(false);
  const refund = useMutation({
    mutationFn: (text: string) => refundByHand(order.id, text),
    onSuccess: () => {
      toast(`Refund of ${formatPaise(order.total)} for ${order.number} requested`);
      void queryClient.invalidateQueries({ queryKey: ["orders"] });
      onClose();
    },
  });
  const missing = touched && reason.trim().length < 3;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    if (reason.trim().length >= 3) refund.mutate(reason.trim());
  };
  return (
    <Dialog open onClose={onClose} title={`Refund ${order.number}?`}>
      <form onSubmit={submit} noValidate>
        <p>
          Uncollected orders are not refunded automatically (the food was made). This gives{" "}
          <strong>{formatPaise(order.total)}</strong> back to the student&apos;s UPI account.
        </p>
        <Field
          label="Reason"
          errors={[...(missing ? ["Say why the money is given back."] : []), ...fieldErrors(refund.error, "reason")]}
        >
          <textarea rows={2} maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} autoFocus />
        </Field>
        <ErrorSummary error={refund.error} shownFields={["reason"]} />
        <div className="dialog-footer">
          <Button onClick={onClose}>Back</Button>
          <Button type="submit" variant="primary" busy={refund.isPending}>
            Refund
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

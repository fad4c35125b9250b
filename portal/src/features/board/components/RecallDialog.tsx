import { useState, type FormEvent } from "react";

import { Button } from "@/components/Button";
import { Dialog } from "@/components/Dialog";
import { ErrorSummary, fieldErrors } from "@/components/ErrorSummary";
import { Field } from "@/components/Field";
import { statusLabel } from "@/lib/status";

import type { RecentMove } from "../hooks/recall";
import { useRecall } from "../hooks/use-recall";

const QUICK_REASONS = ["Pressed by mistake", "Wrong ticket", "Handed to the wrong student", "Not ready after all"];

/** Put back a mistaken move: the reason goes in the order's history. */
export function RecallDialog({ move, open, onClose }: { move: RecentMove; open: boolean; onClose: () => void }) {
  const recall = useRecall(move.orderId);
  const [reason, setReason] = useState("");
  const [touched, setTouched] = useState(false);
  const missing = touched && !reason.trim();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    if (reason.trim()) recall.mutate(reason.trim(), { onSuccess: onClose });
  };
  const back = statusLabel(move.from);
  return (
    <Dialog open={open} onClose={onClose} title={`Recall ${move.number}?`}>
      <form onSubmit={submit} noValidate>
        <p>
          The order goes back to <strong>{back}</strong> and the student sees it. Say why for the order&apos;s history.
        </p>
        <div className="chips" role="group" aria-label="Common reasons">
          {QUICK_REASONS.map((text) => (
            <button type="button" key={text} className="chip" onClick={() => setReason(text)}>
              {text}
            </button>
          ))}
        </div>
        <Field
          label="Reason"
          errors={[...(missing ? ["Say why it is recalled."] : []), ...fieldErrors(recall.error, "reason")]}
        >
          <textarea rows={2} maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} autoFocus />
        </Field>
        <ErrorSummary error={recall.error} shownFields={["reason"]} />
        <div className="dialog-footer">
          <Button onClick={onClose}>Back</Button>
          <Button type="submit" variant="primary" busy={recall.isPending}>
            Recall
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

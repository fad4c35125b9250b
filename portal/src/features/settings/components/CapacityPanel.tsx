import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { Button } from "@/components/Button";
import { ErrorSummary, fieldErrors } from "@/components/ErrorSummary";
import { Field } from "@/components/Field";
import { toast } from "@/components/Toasts";
import type { KitchenCapacity } from "@/lib/api-types";

import { fetchCapacity, setCapacity } from "../api/capacity";

type SlotRow = KitchenCapacity["slots"][number];

/** Kitchen minutes per 15-minute window, per slot (issue 16): how many orders each window
 * of the slot takes before the next window is offered. */
export function CapacityPanel() {
  const capacity = useQuery({ queryKey: ["kitchen-capacity"], queryFn: fetchCapacity });
  if (!capacity.data) return null;
  const { default_minutes_per_window: fallback, slots } = capacity.data;
  return (
    <section className="card config-form" aria-labelledby="capacity-title">
      <h2 id="capacity-title">Kitchen capacity</h2>
      <p className="hint">
        Kitchen minutes per 15-minute window. An order takes its dishes’ prep minutes × quantity; when a window is full
        the next one with room is offered. Empty: {fallback} minutes (15 per kitchen staff member).
      </p>
      {slots.map((slot) => (
        <SlotForm key={`${slot.time_slot}-${slot.minutes_per_window}-${slot.is_default}`} slot={slot} />
      ))}
    </section>
  );
}

function SlotForm({ slot }: { slot: SlotRow }) {
  const queryClient = useQueryClient();
  const [text, setText] = useState(slot.is_default ? "" : String(slot.minutes_per_window));
  const [error, setError] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (minutes: number | null) => setCapacity({ time_slot: slot.time_slot, minutes_per_window: minutes }),
    onSuccess: (next) => {
      queryClient.setQueryData(["kitchen-capacity"], next);
      toast(`Kitchen capacity for ${slot.time_slot} saved`);
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const value = text.trim();
    const minutes = value === "" ? null : /^\d{1,4}$/.test(value) ? Number(value) : NaN;
    if (minutes !== null && (Number.isNaN(minutes) || minutes < 1 || minutes > 1440)) {
      setError("Enter minutes from 1 to 1440, or leave it empty for the default.");
      return;
    }
    setError(null);
    save.mutate(minutes);
  };

  return (
    <form onSubmit={submit} noValidate aria-label={`Capacity of ${slot.time_slot}`} className="capacity-slot">
      <Field
        label={`${slot.time_slot}: minutes per window`}
        hint={slot.is_default ? `Default now: ${slot.minutes_per_window}` : undefined}
        errors={[...(error ? [error] : []), ...fieldErrors(save.error, "minutes_per_window")]}
      >
        <input inputMode="numeric" value={text} onChange={(e) => setText(e.target.value)} />
      </Field>
      <ErrorSummary error={save.error} shownFields={["minutes_per_window"]} />
      <Button type="submit" variant="secondary" busy={save.isPending}>
        Save
      </Button>
    </form>
  );
}

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { Button } from "@/components/Button";
import { ErrorSummary, fieldErrors } from "@/components/ErrorSummary";
import { LoadError, Loading } from "@/components/States";
import { Switch } from "@/components/Switch";
import { toast } from "@/components/Toasts";
import { useTimeSlots } from "@/features/menu/hooks/use-menu";
import type { TimeSlot, TimeSlotUpdate } from "@/lib/api-types";
import { fromTimeInput, toTimeInput } from "@/lib/time";

import { createSlot, deleteSlot, updateSlot } from "../api/settings";

function useSlotsChanged() {
  const queryClient = useQueryClient();
  return () => {
    void queryClient.invalidateQueries({ queryKey: ["time-slots"] });
    void queryClient.invalidateQueries({ queryKey: ["menu"] });
  };
}

function SlotRow({ slot }: { slot: TimeSlot }) {
  const changed = useSlotsChanged();
  const [label, setLabel] = useState(slot.label);
  const [start, setStart] = useState(toTimeInput(slot.start_time));
  const [end, setEnd] = useState(toTimeInput(slot.end_time));
  const save = useMutation({
    mutationFn: (body: TimeSlotUpdate) => updateSlot(slot.id, body),
    onSuccess: (next) => {
      changed();
      toast(`Saved ${next.label}`);
    },
  });
  const remove = useMutation({
    mutationFn: () => deleteSlot(slot.id),
    onSuccess: () => {
      changed();
      toast(`Deleted ${slot.label}`);
    },
  });
  const body: TimeSlotUpdate = {};
  if (label.trim() !== slot.label) body.label = label.trim();
  if (fromTimeInput(start) !== slot.start_time) body.start_time = fromTimeInput(start);
  if (fromTimeInput(end) !== slot.end_time) body.end_time = fromTimeInput(end);
  const dirty = Object.keys(body).length > 0;
  const err = save.error ?? remove.error;
  const rowErrors = ["label", "start_time", "end_time"].flatMap((f) => fieldErrors(save.error, f));
  return (
    <tr>
      <th scope="row">
        <code>{slot.code}</code>
      </th>
      <td>
        <input
          aria-label={`${slot.code} label`}
          value={label}
          maxLength={60}
          onChange={(e) => setLabel(e.target.value)}
        />
      </td>
      <td>
        <input
          aria-label={`${slot.code} starts`}
          type="time"
          value={start}
          onChange={(e) => setStart(e.target.value)}
        />
      </td>
      <td>
        <input aria-label={`${slot.code} ends`} type="time" value={end} onChange={(e) => setEnd(e.target.value)} />
      </td>
      <td>
        <Switch
          checked={slot.is_active}
          label={`${slot.label} active`}
          busy={save.isPending}
          onChange={(is_active) => save.mutate({ is_active })}
        >
          {slot.is_active ? "On" : "Off"}
        </Switch>
      </td>
      <td className="row-actions">
        <Button size="sm" variant="primary" disabled={!dirty} busy={save.isPending} onClick={() => save.mutate(body)}>
          Save
        </Button>
        <Button
          size="sm"
          variant="ghost"
          busy={remove.isPending}
          onClick={() => {
            if (window.confirm(`Delete the ${slot.label} slot?`)) remove.mutate();
          }}
        >
          Delete
        </Button>
        {err ? (
          <div className="row-error">
            {rowErrors.length ? <p className="field-error">{rowErrors.join(" ")}</p> : null}
            <ErrorSummary error={err} shownFields={["label", "start_time", "end_time"]} />
          </div>
        ) : null}
      </td>
    </tr>
  );
}

function NewSlot() {
  const changed = useSlotsChanged();
  const [code, setCode] = useState("");
  const [label, setLabel] = useState("");
  const [start, setStart] = useState("");
  const [end, setEnd] = useState("");
  const create = useMutation({
    mutationFn: () =>
      createSlot({
        code: code.trim().toLowerCase(),
        label: label.trim(),
        start_time: fromTimeInput(start),
        end_time: fromTimeInput(end),
        is_active: true,
        sort_order: 100,
      }),
    onSuccess: (slot) => {
      changed();
      toast(`Added ${slot.label}`);
      setCode("");
      setLabel("");
      setStart("");
      setEnd("");
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  const errs = (f: string) => fieldErrors(create.error, f);
  return (
    <form className="slot-new" onSubmit={submit} noValidate aria-labelledby="slot-new-title">
      <h3 id="slot-new-title">Add a time slot</h3>
      <div className="form-row">
        <label className="field">
          <span>Code</span>
          <input
            value={code}
            onChange={(e) => setCode(e.target.value)}
            placeholder="late_night"
            aria-invalid={errs("code").length > 0 || undefined}
          />
          {errs("code").length ? <span className="field-error">{errs("code").join(" ")}</span> : null}
        </label>
        <label className="field">
          <span>Label</span>
          <input
            value={label}
            onChange={(e) => setLabel(e.target.value)}
            placeholder="Late night"
            aria-invalid={errs("label").length > 0 || undefined}
          />
          {errs("label").length ? <span className="field-error">{errs("label").join(" ")}</span> : null}
        </label>
        <label className="field">
          <span>Starts</span>
          <input
            type="time"
            value={start}
            onChange={(e) => setStart(e.target.value)}
            aria-invalid={errs("start_time").length > 0 || undefined}
          />
          {errs("start_time").length ? <span className="field-error">{errs("start_time").join(" ")}</span> : null}
        </label>
        <label className="field">
          <span>Ends</span>
          <input
            type="time"
            value={end}
            onChange={(e) => setEnd(e.target.value)}
            aria-invalid={errs("end_time").length > 0 || undefined}
          />
          {errs("end_time").length ? <span className="field-error">{errs("end_time").join(" ")}</span> : null}
        </label>
      </div>
      <ErrorSummary
        error={create.error}
        shownFields={["code", "label", "start_time", "end_time"]}
        title={create.error ? "The slot was not added." : undefined}
      />
      <Button type="submit" variant="primary" busy={create.isPending}>
        Add slot
      </Button>
    </form>
  );
}

export function TimeSlotsPanel() {
  const slots = useTimeSlots();
  return (
    <section className="card slots-card" aria-labelledby="slots-title">
      <h2 id="slots-title">Time slots</h2>
      <p className="muted">
        Serving windows in the canteen's local time. Items are sold in the slots chosen on each item.
      </p>
      {slots.isPending ? <Loading /> : null}
      {slots.isError ? <LoadError error={slots.error} retry={() => void slots.refetch()} /> : null}
      {slots.data ? (
        <table className="table slots-table">
          <thead>
            <tr>
              <th scope="col">Code</th>
              <th scope="col">Label</th>
              <th scope="col">Starts</th>
              <th scope="col">Ends</th>
              <th scope="col">Active</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {slots.data.map((slot) => (
              <SlotRow key={`${slot.id}-${slot.label}-${slot.start_time}-${slot.end_time}`} slot={slot} />
            ))}
          </tbody>
        </table>
      ) : null}
      <NewSlot />
    </section>
  );
}

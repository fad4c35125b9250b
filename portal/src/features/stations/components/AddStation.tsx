import { useState, type FormEvent } from "react";

import { Button } from "@/components/Button";
import { fieldErrors } from "@/components/ErrorSummary";
import { Field } from "@/components/Field";

import type { useStationAdmin } from "../hooks/use-stations";
import { PORT_MESSAGE, readPrinter } from "./StationPrinter";

/** Settings → Stations: a new station, last in the order, with its own printer if it has one. */
export function AddStation({ create, count }: { create: ReturnType<typeof useStationAdmin>["create"]; count: number }) {
  const [name, setName] = useState("");
  const [host, setHost] = useState("");
  const [port, setPort] = useState("");
  const { printer, portOk } = readPrinter(host, port);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim() || !portOk) return;
    create.mutate(
      { name: name.trim(), sortOrder: count, printer },
      {
        onSuccess: () => {
          setName("");
          setHost("");
          setPort("");
        },
      },
    );
  };
  return (
    <form onSubmit={submit} className="stations-add" noValidate>
      <Field label="New station" errors={fieldErrors(create.error, "name")}>
        <input value={name} maxLength={60} onChange={(e) => setName(e.target.value)} placeholder="Dosa tawa" />
      </Field>
      <Field
        label="Printer host (optional)"
        hint="Empty: the canteen's printer prints its tickets."
        errors={fieldErrors(create.error, "printer_host")}
      >
        <input value={host} maxLength={253} onChange={(e) => setHost(e.target.value)} placeholder="10.0.0.8" />
      </Field>
      <Field
        label="Printer port (optional)"
        hint="Empty: 9100."
        errors={(portOk ? [] : [PORT_MESSAGE]).concat(fieldErrors(create.error, "printer_port"))}
      >
        <input inputMode="numeric" value={port} onChange={(e) => setPort(e.target.value)} />
      </Field>
      <Button type="submit" busy={create.isPending} disabled={!name.trim() || !portOk}>
        Add station
      </Button>
    </form>
  );
}

import { useState, type FormEvent } from "react";

import { Button } from "@/components/Button";
import { ErrorSummary, fieldErrors } from "@/components/ErrorSummary";
import { Field } from "@/components/Field";

import type { Station, StationPrinter as Printer } from "../api/stations";
import { useStationPrinter } from "../hooks/use-stations";

const DEFAULT_PORT = 9100;

/** Where a station's tickets print, as the row says it. */
export function printsOn(station: Station): string {
  return station.printer_host
    ? `Prints on ${station.printer_host}:${station.printer_port ?? DEFAULT_PORT}`
    : "Prints on the canteen's printer";
}

/** The printer as typed: an empty host is none (port and all), an empty port 9100; a port must be digits. */
export function readPrinter(hostText: string, portText: string): { printer: Printer; portOk: boolean } {
  const host = hostText.trim();
  const port = portText.trim();
  // Anything not a number is caught here, a number out of range by the API.
  const portOk = !host || port === "" || /^\d{1,5}$/.test(port);
  const printer = host ? { host, port: port && portOk ? Number(port) : null } : { host: null, port: null };
  return { printer, portOk };
}

export const PORT_MESSAGE = "A port is a number, 9100 for most printers.";

/** A station row's printer: where its tickets print, and a form to set or clear its own printer. */
export function StationPrinter({ station }: { station: Station }) {
  const save = useStationPrinter();
  // The host and port as typed while the form is open (null: closed).
  const [draft, setDraft] = useState<{ host: string; port: string } | null>(null);
  const open = () => {
    save.reset();
    setDraft({ host: station.printer_host ?? "", port: station.printer_port ? String(station.printer_port) : "" });
  };
  // Where it prints now stays in sight while the form is open, and after a refusal.
  const where = <span className="station-printer muted">{printsOn(station)}</span>;
  if (!draft) {
    return (
      <>
        {where}
        <Button size="sm" variant="ghost" onClick={open} aria-label={`Printer of station ${station.name}`}>
          Printer
        </Button>
      </>
    );
  }
  const { printer, portOk } = readPrinter(draft.host, draft.port);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!portOk) return;
    save.mutate({ stationId: station.id, printer }, { onSuccess: () => setDraft(null) });
  };
  return (
    <>
      {where}
      <form onSubmit={submit} className="station-printer-form" aria-label={`Printer of ${station.name}`} noValidate>
        <Field
          label="Printer host"
          hint="Its IP address or name; empty: the canteen's printer."
          errors={fieldErrors(save.error, "printer_host")}
        >
          <input
            value={draft.host}
            maxLength={253}
            onChange={(e) => setDraft({ ...draft, host: e.target.value })}
            placeholder="10.0.0.8"
          />
        </Field>
        <Field
          label="Printer port"
          hint="Empty: 9100."
          errors={(portOk ? [] : [PORT_MESSAGE]).concat(fieldErrors(save.error, "printer_port"))}
        >
          <input
            inputMode="numeric"
            value={draft.port}
            onChange={(e) => setDraft({ ...draft, port: e.target.value })}
          />
        </Field>
        <div className="form-actions">
          <Button type="submit" size="sm" variant="primary" busy={save.isPending} disabled={!portOk}>
            Save
          </Button>
          <Button size="sm" variant="ghost" onClick={() => setDraft(null)}>
            Cancel
          </Button>
        </div>
        <ErrorSummary
          error={save.error}
          shownFields={["printer_host", "printer_port"]}
          title={save.error ? "Not saved; the station prints where it did." : undefined}
        />
      </form>
    </>
  );
}

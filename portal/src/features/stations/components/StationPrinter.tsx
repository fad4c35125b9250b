import { useState, type FormEvent } from "react";

import { Button } from "@/components/Button";
import { ErrorSummary, fieldErrors } from "@/components/ErrorSummary";
import { Field } from "@/components/Field";

import type { Station } from "../api/stations";
import { useStationPrinter } from "../hooks/use-stations";

const DEFAULT_PORT = 9100;

/** Where a station's tickets print, as the row says it. */
export function printsOn(station: Station): string {
  return station.printer_host
    ? `Prints on ${station.printer_host}:${station.printer_port ?? DEFAULT_PORT}`
    : "Prints on the canteen's printer";
}

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
  const host = draft.host.trim();
  // Empty: the printer's usual 9100; anything not a number is caught here, a number out of range by the API.
  const port = draft.port.trim();
  const portOk = !host || port === "" || /^\d{1,5}$/.test(port);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!portOk) return;
    // An empty host hands the tickets back to the canteen's printer, so its port goes too.
    const printer = host ? { host, port: port ? Number(port) : null } : { host: null, port: null };
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
          errors={(portOk ? [] : ["A port is a number, 9100 for most printers."]).concat(
            fieldErrors(save.error, "printer_port"),
          )}
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

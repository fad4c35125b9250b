import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { Button } from "@/components/Button";
import { ErrorSummary, fieldErrors } from "@/components/ErrorSummary";
import { Field } from "@/components/Field";
import { LoadError, Loading } from "@/components/States";
import { Switch } from "@/components/Switch";
import { toast } from "@/components/Toasts";

import { fetchPrinterSettings, updatePrinterSettings, type PrinterSettings } from "../api/printing";

const KEY = ["admin", "printing"] as const;

/** Settings → Kitchen tickets: print a ticket on a network printer when an order is confirmed. */
export function PrinterPanel() {
  const settings = useQuery({ queryKey: KEY, queryFn: fetchPrinterSettings });
  return (
    <section className="card printer-panel" aria-labelledby="printer-title">
      <h2 id="printer-title">Kitchen tickets</h2>
      <p className="field-hint">
        Every ticket on the board has a Print button (80 mm paper). A network thermal printer (ESC/POS) can also print
        each order by itself when it is confirmed.
      </p>
      {settings.isPending ? <Loading /> : null}
      {settings.isError ? <LoadError error={settings.error} retry={() => void settings.refetch()} /> : null}
      {settings.data ? (
        <PrinterForm key={`${settings.data.auto_print_since}-${settings.data.printer_host}`} settings={settings.data} />
      ) : null}
    </section>
  );
}

function PrinterForm({ settings }: { settings: PrinterSettings }) {
  const queryClient = useQueryClient();
  const [autoPrint, setAutoPrint] = useState(settings.auto_print);
  const [host, setHost] = useState(settings.printer_host ?? "");
  const [port, setPort] = useState(String(settings.printer_port));
  const save = useMutation({
    mutationFn: updatePrinterSettings,
    onSuccess: (saved) => {
      queryClient.setQueryData(KEY, saved);
      toast("Printer settings saved.");
    },
  });
  const portNumber = /^\d{1,5}$/.test(port.trim()) ? Number(port.trim()) : null;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate({
      auto_print: autoPrint,
      printer_host: host.trim() || null,
      ...(portNumber === null ? {} : { printer_port: portNumber }),
    });
  };
  return (
    <form onSubmit={submit} noValidate>
      <Switch checked={autoPrint} label="Print when an order is confirmed" onChange={setAutoPrint}>
        Print when an order is confirmed
      </Switch>
      <Field label="Printer host" errors={fieldErrors(save.error, "printer_host")} hint="Its IP address or name.">
        <input value={host} onChange={(e) => setHost(e.target.value)} placeholder="192.168.1.50" />
      </Field>
      <Field
        label="Printer port"
        errors={[...(portNumber === null ? ["A port is a number, 9100 for most printers."] : [])].concat(
          fieldErrors(save.error, "printer_port"),
        )}
      >
        <input inputMode="numeric" value={port} onChange={(e) => setPort(e.target.value)} />
      </Field>
      <ErrorSummary
        error={save.error}
        shownFields={["printer_host", "printer_port"]}
        title={save.error ? "Not saved; printing is as it was." : undefined}
      />
      <div className="form-actions">
        <Button type="submit" variant="primary" busy={save.isPending} disabled={portNumber === null}>
          Save printer settings
        </Button>
      </div>
    </form>
  );
}

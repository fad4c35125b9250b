import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { Button } from "@/components/Button";
import { ErrorSummary, fieldErrors } from "@/components/ErrorSummary";
import { Field } from "@/components/Field";
import { toast } from "@/components/Toasts";
import type { CanteenConfig, ConfigUpdate } from "@/lib/api-types";

import { fetchConfig, updateConfig } from "../api/settings";

function whole(value: string): number | null {
  return /^\d{1,3}$/.test(value.trim()) ? Number(value.trim()) : null;
}

/** The collection window and the no-show limit for cash (issue 16), on the Settings page. */
export function NoShowsPanel() {
  const config = useQuery({ queryKey: ["config"], queryFn: fetchConfig });
  if (!config.data) return null;
  return <NoShowsForm key={config.data.updated_at} config={config.data} />;
}

function NoShowsForm({ config }: { config: CanteenConfig }) {
  const queryClient = useQueryClient();
  const [windowText, setWindowText] = useState(String(config.collection_window_minutes));
  const [limitText, setLimitText] = useState(
    config.no_show_cash_limit === null ? "" : String(config.no_show_cash_limit),
  );
  const [windowError, setWindowError] = useState<string | null>(null);
  const [limitError, setLimitError] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (body: ConfigUpdate) => updateConfig(body),
    onSuccess: (next) => {
      queryClient.setQueryData(["config"], next);
      toast("No-show settings saved");
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const minutes = whole(windowText);
    const limit = limitText.trim() === "" ? null : whole(limitText);
    const badWindow = minutes === null || minutes < 5 || minutes > 240;
    const badLimit = limitText.trim() !== "" && (limit === null || limit < 1 || limit > 100);
    setWindowError(badWindow ? "Enter minutes from 5 to 240." : null);
    setLimitError(badLimit ? "Enter a number from 1 to 100, or leave it empty for no limit." : null);
    if (badWindow || badLimit) return;
    const body: ConfigUpdate = {};
    if (minutes !== config.collection_window_minutes) body.collection_window_minutes = minutes;
    if (limit !== config.no_show_cash_limit) body.no_show_cash_limit = limit;
    if (Object.keys(body).length === 0) {
      toast("Nothing to save", "info");
      return;
    }
    save.mutate(body);
  };

  return (
    <form className="card config-form" onSubmit={submit} noValidate aria-labelledby="no-shows-title">
      <h2 id="no-shows-title">Uncollected orders</h2>
      <Field
        label="Collection window (minutes)"
        hint="A ready pickup order not collected this long becomes “Not collected”. Paid UPI orders are not refunded automatically (the food was made); an admin can refund one by hand from the board."
        errors={[...(windowError ? [windowError] : []), ...fieldErrors(save.error, "collection_window_minutes")]}
      >
        <input inputMode="numeric" value={windowText} onChange={(e) => setWindowText(e.target.value)} />
      </Field>
      <Field
        label="UPI only after this many no-shows"
        hint="Empty: no limit. Past it, the student can only pay by UPI."
        errors={[...(limitError ? [limitError] : []), ...fieldErrors(save.error, "no_show_cash_limit")]}
      >
        <input inputMode="numeric" value={limitText} onChange={(e) => setLimitText(e.target.value)} />
      </Field>
      <ErrorSummary error={save.error} shownFields={["collection_window_minutes", "no_show_cash_limit"]} />
      <Button type="submit" variant="primary" busy={save.isPending}>
        Save
      </Button>
    </form>
  );
}

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { Button } from "@/components/Button";
import { ErrorSummary, fieldErrors } from "@/components/ErrorSummary";
import { Field } from "@/components/Field";
import { LoadError, Loading } from "@/components/States";
import { Switch } from "@/components/Switch";
import { toast } from "@/components/Toasts";
import type { CanteenConfig, ConfigUpdate } from "@/lib/api-types";
import { paiseToRupeeInput, parseRupees } from "@/lib/money";
import { formatDateTime } from "@/lib/time";

import { DisplayTokensPanel } from "@/features/display/components/DisplayTokensPanel";
import { PrinterPanel } from "@/features/printing/components/PrinterPanel";
import { StationsPanel } from "@/features/stations/components/StationsPanel";

import { fetchConfig, updateConfig } from "../api/settings";
import { CapacityPanel } from "./CapacityPanel";
import { NoShowsPanel } from "./NoShowsPanel";
import { TimeSlotsPanel } from "./TimeSlotsPanel";

type Toggle =
  | "restaurant_open"
  | "ordering_paused"
  | "delivery_enabled"
  | "cash_payment_enabled"
  | "upi_payment_enabled"
  | "ready_sms_enabled";

const TOGGLES: { key: Toggle; label: string; help: string }[] = [
  { key: "restaurant_open", label: "Canteen open", help: "Closed: the app shows “closed” and takes no orders." },
  {
    key: "ordering_paused",
    label: "Pause new orders",
    help: "For a rush: the app stops taking orders; orders already placed carry on.",
  },
  { key: "delivery_enabled", label: "Delivery", help: "Offer delivery to campus addresses." },
  { key: "cash_payment_enabled", label: "Cash payments", help: "Pay at the counter on pickup or delivery." },
  { key: "upi_payment_enabled", label: "UPI payments", help: "Pay in the app through Razorpay." },
  {
    key: "ready_sms_enabled",
    label: "Text when ready",
    help: "Also send an SMS when an order is ready (push and the open app tell students anyway).",
  },
];

type Limits = { delivery_fee: string; max_items_per_order: string; max_order_total: string };

function limitsOf(config: CanteenConfig): Limits {
  return {
    delivery_fee: paiseToRupeeInput(config.delivery_fee),
    max_items_per_order: String(config.max_items_per_order),
    max_order_total: paiseToRupeeInput(config.max_order_total),
  };
}

function parseCount(value: string): number | null {
  return /^\d{1,3}$/.test(value.trim()) ? Number(value.trim()) : null;
}

export function SettingsPage() {
  const config = useQuery({ queryKey: ["config"], queryFn: fetchConfig });
  return (
    <div className="page settings-page">
      <div className="page-head">
        <h1>Settings</h1>
      </div>
      {config.isPending ? <Loading /> : null}
      {config.isError ? <LoadError error={config.error} retry={() => void config.refetch()} /> : null}
      <div className="settings-grid">
        {config.data ? <ConfigForm key={config.data.updated_at} config={config.data} /> : null}
        <NoShowsPanel />
        <CapacityPanel />
        <TimeSlotsPanel />
        <DisplayTokensPanel />
        <PrinterPanel />
        <StationsPanel />
      </div>
    </div>
  );
}

function ConfigForm({ config }: { config: CanteenConfig }) {
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState({
    ...Object.fromEntries(TOGGLES.map((t) => [t.key, config[t.key]])),
    ...limitsOf(config),
  } as Record<Toggle, boolean> & Limits);
  const [feeError, setFeeError] = useState<string | null>(null);
  const [itemsError, setItemsError] = useState<string | null>(null);
  const [totalError, setTotalError] = useState<string | null>(null);

  const save = useMutation({
    mutationFn: (body: ConfigUpdate) => updateConfig(body),
    onSuccess: (next) => {
      queryClient.setQueryData(["config"], next);
      void queryClient.invalidateQueries({ queryKey: ["public-config"] });
      toast("Settings saved");
    },
  });

  const changes = (): ConfigUpdate | null => {
    const body: ConfigUpdate = {};
    for (const t of TOGGLES) if (draft[t.key] !== config[t.key]) body[t.key] = draft[t.key];
    const fee = parseRupees(draft.delivery_fee);
    const items = parseCount(draft.max_items_per_order);
    const total = parseRupees(draft.max_order_total);
    const badFee = fee === null || fee > 1000_00;
    const badItems = items === null || items < 1 || items > 500;
    const badTotal = total === null || total < 1_00 || total > 100_000_00;
    setFeeError(badFee ? "Enter a fee from ₹0 to ₹1,000, e.g. 20 or 15.50." : null);
    setItemsError(badItems ? "Enter a number of items from 1 to 500." : null);
    setTotalError(badTotal ? "Enter an amount from ₹1 to ₹1,00,000." : null);
    if (badFee || badItems || badTotal) return null;
    if (fee !== config.delivery_fee) body.delivery_fee = fee;
    if (items !== config.max_items_per_order) body.max_items_per_order = items;
    if (total !== config.max_order_total) body.max_order_total = total;
    return body;
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const body = changes();
    if (!body) return;
    if (Object.keys(body).length === 0) {
      toast("Nothing to save", "info");
      return;
    }
    save.mutate(body);
  };
  const dirty =
    TOGGLES.some((t) => draft[t.key] !== config[t.key]) ||
    parseRupees(draft.delivery_fee) !== config.delivery_fee ||
    parseCount(draft.max_items_per_order) !== config.max_items_per_order ||
    parseRupees(draft.max_order_total) !== config.max_order_total;

  return (
    <form className="card config-form" onSubmit={submit} noValidate aria-labelledby="config-title">
      <h2 id="config-title">Canteen</h2>
      {!config.restaurant_open || config.ordering_paused ? (
        <p className="notice notice-warn" role="status">
          {config.restaurant_open ? "New orders are paused." : "The canteen is closed to orders."}
        </p>
      ) : null}
      <ul className="toggle-list">
        {TOGGLES.map((t) => (
          <li key={t.key}>
            <Switch
              checked={draft[t.key]}
              label={t.label}
              describedBy={`help-${t.key}`}
              onChange={(value) => setDraft((d) => ({ ...d, [t.key]: value }))}
            >
              {t.label}
            </Switch>
            <p className="field-hint" id={`help-${t.key}`}>
              {t.help}
            </p>
            {fieldErrors(save.error, t.key).length ? (
              <p className="field-error">{fieldErrors(save.error, t.key).join(" ")}</p>
            ) : null}
          </li>
        ))}
      </ul>
      <Field
        label="Delivery fee (₹)"
        errors={[...(feeError ? [feeError] : []), ...fieldErrors(save.error, "delivery_fee")]}
        hint="Added to every delivery order."
      >
        <input
          inputMode="decimal"
          value={draft.delivery_fee}
          onChange={(e) => setDraft((d) => ({ ...d, delivery_fee: e.target.value }))}
        />
      </Field>
      <Field
        label="Most items in one order"
        errors={[...(itemsError ? [itemsError] : []), ...fieldErrors(save.error, "max_items_per_order")]}
        hint="All dishes together; larger orders are refused with this limit named."
      >
        <input
          inputMode="numeric"
          value={draft.max_items_per_order}
          onChange={(e) => setDraft((d) => ({ ...d, max_items_per_order: e.target.value }))}
        />
      </Field>
      <Field
        label="Largest order total (₹)"
        errors={[...(totalError ? [totalError] : []), ...fieldErrors(save.error, "max_order_total")]}
        hint="Delivery fee included; the app tells students before checkout."
      >
        <input
          inputMode="decimal"
          value={draft.max_order_total}
          onChange={(e) => setDraft((d) => ({ ...d, max_order_total: e.target.value }))}
        />
      </Field>
      <ErrorSummary
        error={save.error}
        shownFields={[...TOGGLES.map((t) => t.key), "delivery_fee", "max_items_per_order", "max_order_total"]}
        title={save.error ? "Not saved; the settings are as they were." : undefined}
      />
      <div className="form-actions">
        <Button type="submit" variant="primary" busy={save.isPending} disabled={!dirty}>
          Save settings
        </Button>
        <Button
          disabled={!dirty || save.isPending}
          onClick={() => {
            save.reset();
            setFeeError(null);
            setItemsError(null);
            setTotalError(null);
            setDraft({
              ...(Object.fromEntries(TOGGLES.map((t) => [t.key, config[t.key]])) as Record<Toggle, boolean>),
              ...limitsOf(config),
            });
          }}
        >
          Undo changes
        </Button>
      </div>
      <p className="muted small">Last changed {formatDateTime(config.updated_at)}</p>
    </form>
  );
}

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";

import { Button } from "@/components/Button";
import { ErrorSummary, fieldErrors } from "@/components/ErrorSummary";
import { Field } from "@/components/Field";
import { LoadError, Loading } from "@/components/States";
import { Switch } from "@/components/Switch";
import { toast } from "@/components/Toasts";
import type { Allergen, MenuItem } from "@/lib/api-types";

import { createItem, deleteItem, fetchItem, updateItem } from "../api/menu";
import { diff, emptyForm, formFromItem, validate, type FormErrors, type ItemForm } from "../hooks/item-form";
import { menuKeys, useCategories, useTimeSlots } from "../hooks/use-menu";
import { ALLERGENS, DIETS } from "../types";
import { DietMark } from "./DietMark";
import { StationSelect } from "@/features/stations/components/StationSelect";

import { ImageUploader } from "./ImageUploader";
import { OptionGroupsEditor } from "./OptionGroupsEditor";

export function ItemEditorPage() {
  const { itemId } = useParams();
  const isNew = !itemId;
  const item = useQuery({
    queryKey: menuKeys.item(itemId ?? "new"),
    queryFn: () => fetchItem(itemId as string),
    enabled: !isNew,
  });
  if (!isNew && item.isPending) return <Loading label="Loading the item…" />;
  if (!isNew && item.isError) {
    return (
      <div className="page">
        <p>
          <Link to="/menu">← Menu</Link>
        </p>
        <LoadError error={item.error} retry={() => void item.refetch()} />
      </div>
    );
  }
  return <ItemEditor key={item.data?.id ?? "new"} item={item.data ?? null} />;
}

function ItemEditor({ item }: { item: MenuItem | null }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const categories = useCategories();
  const slots = useTimeSlots();
  const [form, setForm] = useState<ItemForm>(() => (item ? formFromItem(item) : emptyForm()));
  const [local, setLocal] = useState<FormErrors>({});
  const summary = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!form.category_id && categories.data?.[0]) setForm((f) => ({ ...f, category_id: categories.data[0]!.id }));
  }, [categories.data, form.category_id]);

  const save = useMutation({
    mutationFn: async (): Promise<MenuItem | null> => {
      const { body, errors } = validate(form);
      setLocal(errors);
      if (!body) return null;
      if (!item) return createItem(body);
      const changes = diff(item, body);
      if (Object.keys(changes).length === 0) return item;
      return updateItem(item.id, changes);
    },
    onSuccess: (saved) => {
      if (!saved) {
        summary.current?.focus();
        return;
      }
      queryClient.setQueryData(menuKeys.item(saved.id), saved);
      void queryClient.invalidateQueries({ queryKey: ["menu", "items"] });
      toast(item ? `Saved “${saved.name}”` : `Added “${saved.name}”. Add a photo below.`);
      if (!item) navigate(`/menu/items/${saved.id}`, { replace: true });
    },
    onError: () => summary.current?.focus(),
  });
  const remove = useMutation({
    mutationFn: () => deleteItem(item!.id),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["menu"] });
      toast(`Deleted “${item!.name}”`);
      navigate("/menu");
    },
  });

  const errorsFor = (field: keyof ItemForm) => [
    ...(local[field] ? [local[field] as string] : []),
    ...fieldErrors(save.error, field),
  ];
  const set = <K extends keyof ItemForm>(key: K, value: ItemForm[K]) => setForm((f) => ({ ...f, [key]: value }));
  const toggle = <K extends "allergens" | "time_slots">(key: K, value: string) =>
    setForm((f) => {
      const list = f[key] as string[];
      return { ...f, [key]: list.includes(value) ? list.filter((v) => v !== value) : [...list, value] };
    });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  const localCount = Object.keys(local).length;

  return (
    <div className="page item-editor">
      <p>
        <Link to="/menu">← Menu</Link>
      </p>
      <div className="page-head">
        <h1>{item ? `Edit ${item.name}` : "New menu item"}</h1>
      </div>
      <div className="editor-grid">
        <form className="card" onSubmit={submit} noValidate aria-label={item ? `Edit ${item.name}` : "New menu item"}>
          <div ref={summary} tabIndex={-1} className="summary-anchor">
            {localCount ? (
              <div className="error-summary" role="alert">
                <p className="error-summary-title">
                  {localCount === 1 ? "One field needs attention" : `${localCount} fields need attention`}; nothing was
                  saved.
                </p>
              </div>
            ) : null}
            <ErrorSummary
              error={save.error}
              shownFields={Object.keys(form)}
              title={save.error ? "Not saved." : undefined}
            />
          </div>
          <Field label="Name" errors={errorsFor("name")}>
            <input value={form.name} maxLength={120} onChange={(e) => set("name", e.target.value)} required />
          </Field>
          <div className="form-row">
            <Field label="Category" errors={errorsFor("category_id")}>
              <select value={form.category_id} onChange={(e) => set("category_id", e.target.value)}>
                {(categories.data ?? []).map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                  </option>
                ))}
              </select>
            </Field>
            <Field label="Price (₹)" errors={errorsFor("price")} hint="Rupees, e.g. 45.50">
              <input
                inputMode="decimal"
                value={form.price}
                onChange={(e) => set("price", e.target.value)}
                placeholder="0.00"
              />
            </Field>
          </div>
          <Field label="Description" errors={errorsFor("description")}>
            <textarea
              rows={2}
              maxLength={1000}
              value={form.description}
              onChange={(e) => set("description", e.target.value)}
            />
          </Field>
          <fieldset className="fieldset" aria-describedby={errorsFor("diet").length ? "diet-error" : undefined}>
            <legend>Diet mark</legend>
            <div className="radio-row">
              {DIETS.map((d) => (
                <label key={d.value} className="radio">
                  <input
                    type="radio"
                    name="diet"
                    value={d.value}
                    checked={form.diet === d.value}
                    onChange={() => set("diet", d.value)}
                  />
                  <DietMark diet={d.value} /> {d.label}
                </label>
              ))}
            </div>
            {errorsFor("diet").length ? (
              <p className="field-error" id="diet-error">
                {errorsFor("diet").join(" ")}
              </p>
            ) : null}
          </fieldset>
          <fieldset className="fieldset">
            <legend>Allergens</legend>
            <div className="check-grid">
              {ALLERGENS.map((a) => (
                <label key={a.value} className="check">
                  <input
                    type="checkbox"
                    checked={form.allergens.includes(a.value)}
                    onChange={() => toggle("allergens", a.value as Allergen)}
                  />
                  {a.label}
                </label>
              ))}
            </div>
          </fieldset>
          <fieldset
            className={`fieldset ${errorsFor("time_slots").length ? "field-invalid" : ""}`}
            aria-describedby={errorsFor("time_slots").length ? "slots-error" : undefined}
          >
            <legend>Sold in these time slots</legend>
            <div className="check-grid check-grid-wide">
              {(slots.data ?? []).map((s) => (
                <label key={s.id} className="check">
                  <input
                    type="checkbox"
                    checked={form.time_slots.includes(s.code)}
                    onChange={() => toggle("time_slots", s.code)}
                  />
                  {s.label}{" "}
                  <span className="muted">
                    ({s.start_time.slice(0, 5)}–{s.end_time.slice(0, 5)})
                  </span>
                </label>
              ))}
            </div>
            {errorsFor("time_slots").length ? (
              <p className="field-error" id="slots-error">
                {errorsFor("time_slots").join(" ")}
              </p>
            ) : null}
          </fieldset>
          <div className="form-row">
            <Field label="Prep time (minutes)" errors={errorsFor("prep_minutes")}>
              <input
                type="number"
                min={0}
                max={240}
                value={form.prep_minutes}
                onChange={(e) => set("prep_minutes", e.target.value)}
              />
            </Field>
            <Field
              label="Portions per day"
              errors={errorsFor("daily_stock")}
              hint={
                item?.daily_stock !== null && item?.daily_stock !== undefined
                  ? `${item.stock_remaining ?? 0} left today. Empty = no limit; changing it refills today.`
                  : "Empty = no limit."
              }
            >
              <input
                type="number"
                min={0}
                value={form.daily_stock}
                onChange={(e) => set("daily_stock", e.target.value)}
              />
            </Field>
            <Field label="Sort order" errors={errorsFor("sort_order")} hint="Lower comes first">
              <input type="number" value={form.sort_order} onChange={(e) => set("sort_order", e.target.value)} />
            </Field>
          </div>
          <OptionGroupsEditor
            groups={form.option_groups}
            onChange={(groups) => set("option_groups", groups)}
            errors={errorsFor("option_groups")}
          />
          <div className="field">
            <Switch checked={form.is_available} label="Available to order" onChange={(v) => set("is_available", v)}>
              Available to order
            </Switch>
          </div>
          <div className="form-actions">
            <Button type="submit" variant="primary" size="lg" busy={save.isPending}>
              {item ? "Save changes" : "Create item"}
            </Button>
            <Link className="btn btn-secondary btn-lg" to="/menu">
              Cancel
            </Link>
            {item ? (
              <Button
                variant="ghost"
                className="push-right"
                busy={remove.isPending}
                onClick={() => {
                  if (window.confirm(`Delete “${item.name}” from the menu? Past orders keep their lines.`))
                    remove.mutate();
                }}
              >
                Delete item
              </Button>
            ) : null}
          </div>
          <ErrorSummary error={remove.error} />
        </form>
        {item ? (
          <>
            <StationSelect item={item} />
            <ImageUploader item={item} />
          </>
        ) : (
          <section className="card image-card" aria-labelledby="photo-title">
            <h2 id="photo-title">Photo</h2>
            <p className="muted">Create the item first; then you can add its photo here.</p>
          </section>
        )}
      </div>
    </div>
  );
}

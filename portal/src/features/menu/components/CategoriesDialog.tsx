import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { Button } from "@/components/Button";
import { Dialog } from "@/components/Dialog";
import { ErrorSummary, fieldErrors } from "@/components/ErrorSummary";
import { Field } from "@/components/Field";
import { Switch } from "@/components/Switch";
import { toast } from "@/components/Toasts";
import type { Category } from "@/lib/api-types";

import { createCategory, deleteCategory, updateCategory } from "../api/menu";
import { useCategories } from "../hooks/use-menu";

function CategoryRow({ category }: { category: Category }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(category.name);
  const [sort, setSort] = useState(String(category.sort_order));
  const save = useMutation({
    mutationFn: (body: Parameters<typeof updateCategory>[1]) => updateCategory(category.id, body),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["menu"] }),
  });
  const remove = useMutation({
    mutationFn: () => deleteCategory(category.id),
    onSuccess: () => {
      toast(`Deleted “${category.name}”`);
      void queryClient.invalidateQueries({ queryKey: ["menu"] });
    },
  });
  const changed = name.trim() !== category.name || Number(sort) !== category.sort_order;
  return (
    <li className="category-row">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          const body: { name?: string; sort_order?: number } = {};
          if (name.trim() !== category.name) body.name = name.trim();
          if (Number(sort) !== category.sort_order) body.sort_order = Number(sort);
          save.mutate(body);
        }}
      >
        <Field label="Name" errors={fieldErrors(save.error, "name")}>
          <input value={name} maxLength={80} onChange={(e) => setName(e.target.value)} />
        </Field>
        <Field label="Order" errors={fieldErrors(save.error, "sort_order")} className="field-narrow">
          <input type="number" value={sort} onChange={(e) => setSort(e.target.value)} />
        </Field>
        <Switch
          checked={category.is_active}
          label={`${category.name} shown to customers`}
          busy={save.isPending}
          onChange={(is_active) => save.mutate({ is_active })}
        >
          {category.is_active ? "Shown" : "Hidden"}
        </Switch>
        <Button type="submit" size="sm" variant="primary" disabled={!changed} busy={save.isPending}>
          Save
        </Button>
        <Button size="sm" variant="ghost" busy={remove.isPending} onClick={() => remove.mutate()}>
          Delete
        </Button>
      </form>
      <ErrorSummary error={save.error ?? remove.error} shownFields={["name", "sort_order"]} />
    </li>
  );
}

export function CategoriesDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const categories = useCategories();
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const create = useMutation({
    mutationFn: () =>
      createCategory({ name: name.trim(), sort_order: (categories.data?.length ?? 0) * 10, is_active: true }),
    onSuccess: (category) => {
      setName("");
      toast(`Added “${category.name}”`);
      void queryClient.invalidateQueries({ queryKey: ["menu"] });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <Dialog open={open} onClose={onClose} title="Categories" size="lg" footer={<Button onClick={onClose}>Done</Button>}>
      <ul className="category-list">
        {(categories.data ?? []).map((c) => (
          <CategoryRow key={`${c.id}-${c.name}-${c.sort_order}`} category={c} />
        ))}
      </ul>
      <form className="category-new" onSubmit={submit}>
        <Field label="New category" errors={fieldErrors(create.error, "name")}>
          <input value={name} maxLength={80} onChange={(e) => setName(e.target.value)} placeholder="e.g. Chaat" />
        </Field>
        <Button type="submit" variant="primary" busy={create.isPending} disabled={!name.trim()}>
          Add category
        </Button>
      </form>
      <ErrorSummary error={create.error} shownFields={["name"]} />
    </Dialog>
  );
}

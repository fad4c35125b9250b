/** The item editor's form: text fields in, a validated API body out (pure, unit-tested). */
import type { Allergen, Diet, MenuItem, MenuItemCreate, MenuItemUpdate } from "@/lib/api-types";
import { paiseToRupeeInput, parseRupees } from "@/lib/money";

import { groupsFromItem, sameGroups, validateGroups, type GroupForm } from "./option-form";

export interface ItemForm {
  name: string;
  category_id: string;
  description: string;
  price: string;
  diet: Diet;
  allergens: Allergen[];
  time_slots: string[];
  prep_minutes: string;
  daily_stock: string;
  sort_order: string;
  is_available: boolean;
  option_groups: GroupForm[];
}

export type FormErrors = Partial<Record<keyof ItemForm, string>>;

export function emptyForm(categoryId = ""): ItemForm {
  return {
    name: "",
    category_id: categoryId,
    description: "",
    price: "",
    diet: "veg",
    allergens: [],
    time_slots: [],
    prep_minutes: "10",
    daily_stock: "",
    sort_order: "0",
    is_available: true,
    option_groups: [],
  };
}

export function formFromItem(item: MenuItem): ItemForm {
  return {
    name: item.name,
    category_id: item.category_id,
    description: item.description ?? "",
    price: paiseToRupeeInput(item.price),
    diet: item.diet,
    allergens: [...item.allergens],
    time_slots: [...item.time_slots],
    prep_minutes: String(item.prep_minutes),
    daily_stock: item.daily_stock === null || item.daily_stock === undefined ? "" : String(item.daily_stock),
    sort_order: String(item.sort_order),
    is_available: item.is_available,
    option_groups: groupsFromItem(item.option_groups),
  };
}

function wholeNumber(text: string, min: number, max: number): number | null {
  if (!/^-?\d+$/.test(text.trim())) return null;
  const n = Number(text.trim());
  return n >= min && n <= max ? n : null;
}

/** Check the form the way the API will, so most mistakes never leave the page. */
export function validate(form: ItemForm): { body: MenuItemCreate | null; errors: FormErrors } {
  const errors: FormErrors = {};
  const name = form.name.trim();
  if (!name) errors.name = "Give the item a name.";
  else if (name.length > 120) errors.name = "At most 120 characters.";
  if (!form.category_id) errors.category_id = "Choose a category.";
  const price = parseRupees(form.price);
  if (price === null) errors.price = "Enter the price in rupees, e.g. 45 or 45.50.";
  else if (price <= 0) errors.price = "The price must be more than ₹0.";
  else if (price > 10_000_00) errors.price = "The price can be at most ₹10,000.";
  if (form.description.trim().length > 1000) errors.description = "At most 1000 characters.";
  if (form.time_slots.length === 0) errors.time_slots = "Choose at least one time slot.";
  const prep = wholeNumber(form.prep_minutes, 0, 240);
  if (prep === null) errors.prep_minutes = "Whole minutes from 0 to 240.";
  let dailyStock: number | null = null;
  if (form.daily_stock.trim()) {
    dailyStock = wholeNumber(form.daily_stock, 0, 100_000);
    if (dailyStock === null) errors.daily_stock = "A whole number of portions (0 to 100000), or empty for no limit.";
  }
  const sort = wholeNumber(form.sort_order || "0", -1_000_000, 1_000_000);
  if (sort === null) errors.sort_order = "A whole number.";
  const groups = validateGroups(form.option_groups);
  if (groups.error) errors.option_groups = groups.error;
  if (Object.keys(errors).length) return { body: null, errors };
  return {
    errors,
    body: {
      category_id: form.category_id,
      name,
      description: form.description.trim() || null,
      price: price as number,
      diet: form.diet,
      allergens: form.allergens,
      time_slots: form.time_slots,
      is_available: form.is_available,
      prep_minutes: prep as number,
      daily_stock: dailyStock,
      sort_order: sort as number,
      option_groups: groups.body ?? [],
    },
  };
}

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().join() === [...b].sort().join();

/** Only what changed, so a save never overwrites someone else's edit of another field. */
export function diff(item: MenuItem, body: MenuItemCreate): MenuItemUpdate {
  const out: MenuItemUpdate = {};
  if (body.category_id !== item.category_id) out.category_id = body.category_id;
  if (body.name !== item.name) out.name = body.name;
  if ((body.description ?? null) !== (item.description ?? null)) out.description = body.description ?? null;
  if (body.price !== item.price) out.price = body.price;
  if (body.diet !== item.diet) out.diet = body.diet;
  if (!sameSet(body.allergens ?? [], item.allergens)) out.allergens = body.allergens ?? [];
  if (!sameSet(body.time_slots, item.time_slots)) out.time_slots = body.time_slots;
  if (body.is_available !== undefined && body.is_available !== item.is_available) out.is_available = body.is_available;
  if (body.prep_minutes !== undefined && body.prep_minutes !== item.prep_minutes) out.prep_minutes = body.prep_minutes;
  if ((body.daily_stock ?? null) !== (item.daily_stock ?? null)) out.daily_stock = body.daily_stock ?? null;
  if (body.sort_order !== undefined && body.sort_order !== item.sort_order) out.sort_order = body.sort_order;
  if (!sameGroups(item.option_groups, body.option_groups ?? [])) out.option_groups = body.option_groups ?? [];
  return out;
}

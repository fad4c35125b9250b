/** The item editor's option groups: text fields in, the API's `option_groups` out (pure). */
import type { OptionGroup, OptionGroupIn } from "@/lib/api-types";
import { paiseToRupeeInput, parseRupees } from "@/lib/money";

export interface OptionForm {
  id?: string;
  name: string;
  price: string;
  is_available: boolean;
}

export interface GroupForm {
  id?: string;
  name: string;
  kind: "single" | "multiple";
  required: boolean;
  /** Multiple choice only: the most a student may pick (empty = all). */
  max_select: string;
  options: OptionForm[];
}

export const MAX_DELTA = 5_000_00;

export function emptyOption(): OptionForm {
  return { name: "", price: "0.00", is_available: true };
}

export function emptyGroup(): GroupForm {
  return { name: "", kind: "single", required: false, max_select: "", options: [emptyOption()] };
}

export function groupsFromItem(groups: readonly OptionGroup[] | undefined): GroupForm[] {
  return (groups ?? []).map((g) => ({
    id: g.id,
    name: g.name,
    kind: g.kind,
    required: g.required,
    max_select: g.kind === "multiple" && g.max_select !== g.options.length ? String(g.max_select) : "",
    options: g.options.map((o) => ({
      id: o.id,
      name: o.name,
      price: paiseToRupeeInput(o.price_delta),
      is_available: o.is_available,
    })),
  }));
}

/** The API body for the groups, or the first problem in words (the API says the same). */
export function validateGroups(groups: readonly GroupForm[]): { body: OptionGroupIn[] | null; error?: string } {
  const body: OptionGroupIn[] = [];
  const names = new Set<string>();
  for (const [n, group] of groups.entries()) {
    const label = group.name.trim() || `Group ${n + 1}`;
    const name = group.name.trim();
    if (!name) return { body: null, error: `Give option group ${n + 1} a name.` };
    if (names.has(name.toLowerCase())) return { body: null, error: `Two option groups are called “${name}”.` };
    names.add(name.toLowerCase());
    if (group.options.length === 0) return { body: null, error: `“${label}” needs at least one option.` };
    const optionNames = new Set<string>();
    const options = [];
    for (const option of group.options) {
      const optionName = option.name.trim();
      if (!optionName) return { body: null, error: `Every option in “${label}” needs a name.` };
      if (optionNames.has(optionName.toLowerCase()))
        return { body: null, error: `Two options in “${label}” are called “${optionName}”.` };
      optionNames.add(optionName.toLowerCase());
      const delta = parseRupees(option.price || "0");
      if (delta === null || delta > MAX_DELTA)
        return { body: null, error: `“${optionName}” costs extra from ₹0 to ₹5,000, e.g. 20 or 15.50.` };
      options.push({
        ...(option.id ? { id: option.id } : {}),
        name: optionName,
        price_delta: delta,
        is_available: option.is_available,
      });
    }
    let max = group.kind === "single" ? 1 : options.length;
    if (group.kind === "multiple" && group.max_select.trim()) {
      const parsed = Number(group.max_select.trim());
      if (!Number.isInteger(parsed) || parsed < 1 || parsed > options.length)
        return { body: null, error: `In “${label}”, choose at most 1 to ${options.length} options.` };
      max = parsed;
    }
    body.push({
      ...(group.id ? { id: group.id } : {}),
      name,
      kind: group.kind,
      required: group.required,
      min_select: group.required ? 1 : 0,
      max_select: max,
      options,
    });
  }
  return { body };
}

/** True when the groups the form would send are what the item has (ids, rules, options). */
export function sameGroups(item: readonly OptionGroup[] | undefined, body: readonly OptionGroupIn[]): boolean {
  const stored = (item ?? []).map((g) => ({
    id: g.id,
    name: g.name,
    kind: g.kind,
    required: g.required,
    min_select: g.min_select,
    max_select: g.max_select,
    options: g.options.map((o) => ({
      id: o.id,
      name: o.name,
      price_delta: o.price_delta,
      is_available: o.is_available,
    })),
  }));
  return JSON.stringify(stored) === JSON.stringify(body);
}

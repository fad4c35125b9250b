import { useMemo, useState } from "react";
import { Link } from "react-router";

import { ErrorSummary } from "@/components/ErrorSummary";
import { Empty, LoadError, Loading } from "@/components/States";
import { Switch } from "@/components/Switch";
import { useIsAdmin } from "@/features/auth/hooks/use-session";
import type { MenuItem } from "@/lib/api-types";
import { formatPaise } from "@/lib/money";

import { useAvailability, useCategories, useMenuItems } from "../hooks/use-menu";
import { ALLERGENS } from "../types";
import { CategoriesDialog } from "./CategoriesDialog";
import { DietMark } from "./DietMark";

const allergenLabel = (value: string) => ALLERGENS.find((a) => a.value === value)?.label ?? value;

function stockText(item: MenuItem): string {
  if (item.daily_stock === null || item.daily_stock === undefined) return "No limit";
  return `${item.stock_remaining ?? 0} / ${item.daily_stock} left`;
}

export function MenuPage() {
  const admin = useIsAdmin();
  const items = useMenuItems();
  const categories = useCategories();
  const availability = useAvailability();
  const [category, setCategory] = useState<string>("all");
  const [query, setQuery] = useState("");
  const [editingCategories, setEditingCategories] = useState(false);

  const grouped = useMemo(() => {
    const list = (items.data ?? []).filter(
      (i) =>
        (category === "all" || i.category_id === category) &&
        (!query.trim() || i.name.toLowerCase().includes(query.trim().toLowerCase())),
    );
    return (categories.data ?? [])
      .map((c) => ({ category: c, items: list.filter((i) => i.category_id === c.id) }))
      .filter((g) => g.items.length > 0);
  }, [items.data, categories.data, category, query]);

  const failed = availability.error && availability.variables ? availability.variables.item.name : null;

  return (
    <div className="page menu-page">
      <div className="page-head">
        <h1>Menu</h1>
        <div className="page-actions">
          {admin ? (
            <>
              <button type="button" className="btn btn-secondary btn-md" onClick={() => setEditingCategories(true)}>
                Categories…
              </button>
              <Link className="btn btn-primary btn-md" to="/menu/items/new">
                New item
              </Link>
            </>
          ) : (
            <p className="muted">Tap a switch to mark an item sold out or back on.</p>
          )}
        </div>
      </div>
      <div className="filters menu-filters">
        <label className="inline-field">
          <span>Search</span>
          <input type="search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder="Item name" />
        </label>
        <div className="segmented" role="group" aria-label="Category">
          <button type="button" aria-pressed={category === "all"} onClick={() => setCategory("all")}>
            All
          </button>
          {(categories.data ?? []).map((c) => (
            <button key={c.id} type="button" aria-pressed={category === c.id} onClick={() => setCategory(c.id)}>
              {c.name}
              {c.is_active ? null : <span className="muted"> (hidden)</span>}
            </button>
          ))}
        </div>
      </div>
      {failed ? (
        <ErrorSummary error={availability.error} title={`Could not change “${failed}”; it is back as it was.`} />
      ) : null}
      {items.isPending || categories.isPending ? <Loading label="Loading the menu…" /> : null}
      {items.isError ? <LoadError error={items.error} retry={() => void items.refetch()} /> : null}
      {categories.isError ? <LoadError error={categories.error} retry={() => void categories.refetch()} /> : null}
      {items.data && categories.data && grouped.length === 0 ? <Empty>No items match.</Empty> : null}
      {grouped.map(({ category: c, items: list }) => (
        <section key={c.id} className="menu-section" aria-labelledby={`cat-${c.id}`}>
          <h2 id={`cat-${c.id}`}>
            {c.name} {c.is_active ? null : <span className="tag">hidden from customers</span>}
          </h2>
          <table className="table menu-table">
            <thead>
              <tr>
                <th scope="col" className="col-thumb">
                  <span className="visually-hidden">Photo</span>
                </th>
                <th scope="col">Item</th>
                <th scope="col" className="num">
                  Price
                </th>
                <th scope="col">Allergens</th>
                <th scope="col">Slots</th>
                <th scope="col" className="num">
                  Prep
                </th>
                <th scope="col">Stock</th>
                <th scope="col">Available</th>
              </tr>
            </thead>
            <tbody>
              {list.map((item) => (
                <tr key={item.id} data-item-name={item.name} className={item.sold_out ? "row-sold-out" : undefined}>
                  <td className="col-thumb">
                    {item.thumbnail_url ? (
                      <img src={item.thumbnail_url} alt="" width={48} height={48} loading="lazy" />
                    ) : (
                      <span className="thumb-empty" aria-hidden="true" />
                    )}
                  </td>
                  <th scope="row" className="item-cell">
                    <DietMark diet={item.diet} />{" "}
                    {admin ? <Link to={`/menu/items/${item.id}`}>{item.name}</Link> : <span>{item.name}</span>}
                    {item.sold_out && item.is_available ? <span className="tag tag-warn">sold out today</span> : null}
                  </th>
                  <td className="num">{formatPaise(item.price)}</td>
                  <td>
                    {item.allergens.length ? (
                      item.allergens.map(allergenLabel).join(", ")
                    ) : (
                      <span className="muted">None</span>
                    )}
                  </td>
                  <td>{item.time_slots.join(", ")}</td>
                  <td className="num">{item.prep_minutes} min</td>
                  <td>{stockText(item)}</td>
                  <td>
                    <Switch
                      checked={item.is_available}
                      label={`${item.name} available`}
                      busy={availability.isPending && availability.variables?.item.id === item.id}
                      onChange={(available) => availability.mutate({ item, available })}
                    >
                      {item.is_available ? "On" : "Off"}
                    </Switch>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
      {admin ? <CategoriesDialog open={editingCategories} onClose={() => setEditingCategories(false)} /> : null}
    </div>
  );
}

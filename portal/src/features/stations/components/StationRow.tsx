import type { FormEvent } from "react";

import { Button } from "@/components/Button";
import { fieldErrors } from "@/components/ErrorSummary";
import { Field } from "@/components/Field";

import type { Station } from "../api/stations";
import type { useStationAdmin } from "../hooks/use-stations";
import { StationPrinter } from "./StationPrinter";

type Admin = ReturnType<typeof useStationAdmin>;
/** The station being renamed and its name as typed (the panel renames one at a time). */
export type Renaming = { id: string; name: string } | null;

/** One station in Settings → Stations: rename, delete, and its printer. */
export function StationRow({
  station,
  rename,
  remove,
  renaming,
  setRenaming,
}: {
  station: Station;
  rename: Admin["rename"];
  remove: Admin["remove"];
  renaming: Renaming;
  setRenaming: (next: Renaming) => void;
}) {
  const editing = renaming?.id === station.id ? renaming.name : null;
  const setEditing = (name: string | null) => setRenaming(name === null ? null : { id: station.id, name });
  const saveName = (event: FormEvent) => {
    event.preventDefault();
    const next = editing?.trim() ?? "";
    if (!next) return;
    if (next === station.name) return setEditing(null);
    rename.mutate({ stationId: station.id, name: next }, { onSuccess: () => setEditing(null) });
  };
  return (
    <li>
      {editing !== null ? (
        <form onSubmit={saveName} className="stations-rename" noValidate>
          <Field label={`Rename ${station.name}`} errors={fieldErrors(rename.error, "name")}>
            <input value={editing} maxLength={60} onChange={(e) => setEditing(e.target.value)} />
          </Field>
          <Button type="submit" size="sm" busy={rename.isPending} disabled={!editing.trim()}>
            Save
          </Button>
          <Button size="sm" variant="ghost" onClick={() => setEditing(null)}>
            Cancel
          </Button>
        </form>
      ) : (
        <span className="station-name">{station.name}</span>
      )}
      <span className="muted">
        {station.item_ids.length} {station.item_ids.length === 1 ? "dish" : "dishes"}
      </span>
      {editing !== null ? null : (
        <Button
          size="sm"
          variant="ghost"
          onClick={() => {
            rename.reset();
            setEditing(station.name);
          }}
          aria-label={`Rename station ${station.name}`}
        >
          Rename
        </Button>
      )}
      <Button
        size="sm"
        variant="ghost"
        busy={remove.isPending && remove.variables === station.id}
        onClick={() => remove.mutate(station.id)}
        aria-label={`Delete station ${station.name}`}
      >
        Delete
      </Button>
      <div className="station-printer-row">
        <StationPrinter station={station} />
      </div>
    </li>
  );
}

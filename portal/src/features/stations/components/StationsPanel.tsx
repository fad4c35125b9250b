import { useState, type FormEvent } from "react";

import { Button } from "@/components/Button";
import { ErrorSummary, fieldErrors } from "@/components/ErrorSummary";
import { Field } from "@/components/Field";
import { LoadError, Loading } from "@/components/States";
import { Switch } from "@/components/Switch";

import type { Station } from "../api/stations";
import { useFloor, useStationAdmin } from "../hooks/use-stations";
import "@/features/board/styles/floor.css";

/** Settings → Stations: the kitchen's stations, and whether all-done orders turn ready. */
export function StationsPanel() {
  const floor = useFloor();
  const { create, rename, remove, autoReady } = useStationAdmin();
  const [name, setName] = useState("");
  // The station being renamed and its name as typed (one at a time).
  const [editing, setEditing] = useState<{ id: string; name: string } | null>(null);
  const saveName = (event: FormEvent, station: Station) => {
    event.preventDefault();
    const next = editing?.name.trim() ?? "";
    if (!next) return;
    if (next === station.name) return setEditing(null);
    rename.mutate({ stationId: station.id, name: next }, { onSuccess: () => setEditing(null) });
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim()) return;
    create.mutate({ name: name.trim(), sortOrder: floor.data?.stations.length ?? 0 }, { onSuccess: () => setName("") });
  };
  return (
    <section className="card stations-panel" aria-labelledby="stations-title">
      <h2 id="stations-title">Stations</h2>
      <p className="muted">
        Give each dish a station in its editor; the board can then show one station&apos;s lines. With no stations the
        board works as one kitchen.
      </p>
      {floor.isPending ? <Loading /> : null}
      {floor.isError ? <LoadError error={floor.error} retry={() => void floor.refetch()} /> : null}
      {floor.data ? (
        <>
          {floor.data.stations.length ? (
            <ul className="stations-list">
              {floor.data.stations.map((station) => (
                <li key={station.id}>
                  {editing?.id === station.id ? (
                    <form onSubmit={(e) => saveName(e, station)} className="stations-rename" noValidate>
                      <Field label={`Rename ${station.name}`} errors={fieldErrors(rename.error, "name")}>
                        <input
                          value={editing.name}
                          maxLength={60}
                          onChange={(e) => setEditing({ id: station.id, name: e.target.value })}
                        />
                      </Field>
                      <Button type="submit" size="sm" busy={rename.isPending} disabled={!editing.name.trim()}>
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
                  {editing?.id === station.id ? null : (
                    <Button
                      size="sm"
                      variant="ghost"
                      onClick={() => {
                        rename.reset();
                        setEditing({ id: station.id, name: station.name });
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
                </li>
              ))}
            </ul>
          ) : (
            <p>No stations yet.</p>
          )}
          <Switch
            checked={floor.data.auto_ready}
            onChange={(on) => autoReady.mutate(on)}
            busy={autoReady.isPending}
            label="Ready when every station is done"
          >
            Ready when every station is done
          </Switch>
        </>
      ) : null}
      <form onSubmit={submit} className="stations-add" noValidate>
        <Field label="New station" errors={fieldErrors(create.error, "name")}>
          <input value={name} maxLength={60} onChange={(e) => setName(e.target.value)} placeholder="Dosa tawa" />
        </Field>
        <Button type="submit" busy={create.isPending} disabled={!name.trim()}>
          Add station
        </Button>
      </form>
      <ErrorSummary error={create.error ?? rename.error ?? remove.error ?? autoReady.error} shownFields={["name"]} />
    </section>
  );
}

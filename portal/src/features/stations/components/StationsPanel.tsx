import { useState } from "react";

import { ErrorSummary } from "@/components/ErrorSummary";
import { LoadError, Loading } from "@/components/States";
import { Switch } from "@/components/Switch";

import { useFloor, useStationAdmin } from "../hooks/use-stations";
import { AddStation } from "./AddStation";
import { StationRow, type Renaming } from "./StationRow";
import "@/features/board/styles/floor.css";
import "../styles/stations.css";

/** Settings → Stations: the kitchen's stations, their printers, and whether all-done orders turn ready. */
export function StationsPanel() {
  const floor = useFloor();
  const { create, rename, remove, autoReady } = useStationAdmin();
  const [renaming, setRenaming] = useState<Renaming>(null);
  return (
    <section className="card stations-panel" aria-labelledby="stations-title">
      <h2 id="stations-title">Stations</h2>
      <p className="muted">
        Give each dish a station in its editor; the board can then show one station&apos;s lines. With no stations the
        board works as one kitchen. A station with its own printer gets its kitchen tickets there.
      </p>
      {floor.isPending ? <Loading /> : null}
      {floor.isError ? <LoadError error={floor.error} retry={() => void floor.refetch()} /> : null}
      {floor.data ? (
        <>
          {floor.data.stations.length ? (
            <ul className="stations-list">
              {floor.data.stations.map((station) => (
                <StationRow
                  key={station.id}
                  station={station}
                  rename={rename}
                  remove={remove}
                  renaming={renaming}
                  setRenaming={setRenaming}
                />
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
      <AddStation create={create} count={floor.data?.stations.length ?? 0} />
      <ErrorSummary
        error={create.error ?? rename.error ?? remove.error ?? autoReady.error}
        shownFields={["name", "printer_host", "printer_port"]}
      />
    </section>
  );
}

import { Field } from "@/components/Field";
import { ErrorSummary } from "@/components/ErrorSummary";
import type { MenuItem } from "@/lib/api-types";

import { useFloor, useStationAdmin } from "../hooks/use-stations";

/** The item editor's station: saved at once (the item exists already). */
export function StationSelect({ item }: { item: MenuItem }) {
  const floor = useFloor();
  const { assign } = useStationAdmin();
  const stations = floor.data?.stations ?? [];
  if (stations.length === 0) return null;
  const current = assign.isPending ? (assign.variables?.stationId ?? "") : (item.station_id ?? "");
  return (
    <div className="station-select">
      <Field label="Station" hint="Which station of the kitchen makes it">
        <select
          value={current}
          disabled={assign.isPending}
          onChange={(e) => assign.mutate({ itemId: item.id, stationId: e.target.value || null })}
        >
          <option value="">No station</option>
          {stations.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>
      </Field>
      <ErrorSummary error={assign.error} />
    </div>
  );
}

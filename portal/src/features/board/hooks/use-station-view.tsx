import { useQuery } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, type ReactNode } from "react";

import { fetchMarks } from "@/features/stations/api/stations";
import { stationOfItems, useFloor } from "@/features/stations/hooks/use-stations";
import type { KitchenOrder } from "@/lib/api-types";
import { useStore } from "@/lib/store";

import type { StationLines } from "../components/Ticket";
import type { BoardData } from "../types";
import {
  chooseStation,
  feedStationStore,
  marksFrom,
  marksKey,
  stationBoard,
  stationLines,
  stationStore,
} from "./stations-view";

const NONE: number[] = [];

/** The board's station picker and what it shows; with no stations, the board as before. */
export function useStationView(board: BoardData): {
  view: BoardData;
  picker: ReactNode;
  linesOf: (order: KitchenOrder) => StationLines | undefined;
} {
  const floor = useFloor();
  const stations = floor.data?.stations ?? [];
  const some = stations.length > 0;
  const chosen = useStore(stationStore);
  const stationId = stations.some((s) => s.id === chosen) ? chosen : "";
  const itemStation = useMemo(() => stationOfItems(floor.data), [floor.data]);
  // The feed takes this station's filtered stream; the whole one again on "All stations"
  // and when the board closes. Only a station that exists (a forgotten one would be 404).
  useEffect(() => {
    feedStationStore.set(stationId);
  }, [stationId]);
  useEffect(() => () => feedStationStore.set(""), []);
  const marks = useQuery({
    queryKey: marksKey,
    queryFn: async () => marksFrom(await fetchMarks()),
    enabled: some,
  }).data;
  const view = useMemo(() => stationBoard(board, itemStation, stationId), [board, itemStation, stationId]);
  // Stable per order while nothing changes, so the memoised tickets stay put.
  // eslint-disable-next-line react-hooks/exhaustive-deps -- a fresh cache whenever these change
  const cache = useMemo(() => new Map<string, StationLines>(), [itemStation, stationId, marks]);
  const linesOf = useCallback(
    (order: KitchenOrder) => {
      if (!some) return undefined;
      const key = `${order.id}:${order.items.length}`;
      let lines = cache.get(key);
      if (!lines) {
        lines = { visible: stationLines(order, itemStation, stationId), done: marks?.[order.id] ?? NONE };
        cache.set(key, lines);
      }
      return lines;
    },
    [some, cache, itemStation, stationId, marks],
  );
  const picker = some ? (
    <label className="station-picker">
      <span>Station</span>
      <select value={stationId} onChange={(e) => chooseStation(e.target.value)}>
        <option value="">All stations</option>
        {stations.map((s) => (
          <option key={s.id} value={s.id}>
            {s.name}
          </option>
        ))}
      </select>
    </label>
  ) : null;
  return { view, picker, linesOf };
}

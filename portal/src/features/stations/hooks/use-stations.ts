import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import {
  createStation,
  deleteStation,
  fetchFloor,
  renameStation,
  setAutoReady,
  setItemStation,
  setStationPrinter,
  type Floor,
  type StationPrinter,
} from "../api/stations";

export const floorKey = ["floor"] as const;

/** The stations and which dishes each makes (kitchen and admins). */
export function useFloor(enabled = true) {
  return useQuery({ queryKey: floorKey, queryFn: fetchFloor, enabled, staleTime: 30_000 });
}

/** menu item id → station id, from the floor. */
export function stationOfItems(floor: Floor | undefined): Map<string, string> {
  const map = new Map<string, string>();
  for (const station of floor?.stations ?? []) for (const id of station.item_ids) map.set(id, station.id);
  return map;
}

export function useStationAdmin() {
  const queryClient = useQueryClient();
  const settle = () => void queryClient.invalidateQueries({ queryKey: floorKey });
  return {
    create: useMutation({
      mutationFn: ({ name, sortOrder, printer }: { name: string; sortOrder: number; printer?: StationPrinter }) =>
        createStation(name, sortOrder, printer),
      onSuccess: settle,
    }),
    rename: useMutation({
      mutationFn: ({ stationId, name }: { stationId: string; name: string }) => renameStation(stationId, name),
      onSuccess: settle,
    }),
    remove: useMutation({ mutationFn: deleteStation, onSuccess: settle }),
    autoReady: useMutation({
      mutationFn: setAutoReady,
      onSuccess: (floor) => queryClient.setQueryData(floorKey, floor),
    }),
    assign: useMutation({
      mutationFn: ({ itemId, stationId }: { itemId: string; stationId: string | null }) =>
        setItemStation(itemId, stationId),
      onSuccess: () => {
        settle();
        void queryClient.invalidateQueries({ queryKey: ["menu"] });
      },
    }),
  };
}

/** One station's printer, saved on its own (each row keeps its own error). */
export function useStationPrinter() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ stationId, printer }: { stationId: string; printer: StationPrinter }) =>
      setStationPrinter(stationId, printer),
    onSuccess: (saved) => {
      // The row says where it prints at once; the refetch then confirms it.
      queryClient.setQueryData<Floor>(
        floorKey,
        (floor) => floor && { ...floor, stations: floor.stations.map((s) => (s.id === saved.id ? saved : s)) },
      );
      void queryClient.invalidateQueries({ queryKey: floorKey });
    },
  });
}

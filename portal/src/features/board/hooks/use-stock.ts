import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import type { MenuItem } from "@/lib/api-types";

import { fetchDish, setDishAvailable, setPortionsLeft } from "../api/stock";

export type StockChange = { kind: "available"; available: boolean } | { kind: "left"; left: number | null };

export const dishKey = (itemId: string) => ["dish", itemId] as const;

export function useDish(itemId: string | null) {
  return useQuery({
    queryKey: dishKey(itemId ?? ""),
    queryFn: () => fetchDish(itemId!),
    enabled: itemId !== null,
    staleTime: 0,
  });
}

/** 86 from the board: the answer replaces the dish; the menu pages read theirs again. */
export function useStockChange(itemId: string | null) {
  const queryClient = useQueryClient();
  return useMutation<MenuItem, unknown, StockChange>({
    mutationFn: (change) =>
      change.kind === "available" ? setDishAvailable(itemId!, change.available) : setPortionsLeft(itemId!, change.left),
    onSuccess: (item) => {
      queryClient.setQueryData(dishKey(item.id), item);
      void queryClient.invalidateQueries({ queryKey: ["menu"] });
    },
  });
}

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { useIsAdmin } from "@/features/auth/hooks/use-session";
import type { MenuItem } from "@/lib/api-types";

import { fetchCategories, fetchItems, fetchTimeSlots, setAvailability, type MenuScope } from "../api/menu";

export function useMenuScope(): MenuScope {
  return useIsAdmin() ? "admin" : "kitchen";
}

export const menuKeys = {
  items: (scope: MenuScope) => ["menu", "items", scope] as const,
  categories: (scope: MenuScope) => ["menu", "categories", scope] as const,
  item: (id: string) => ["menu", "item", id] as const,
};

export function useMenuItems() {
  const scope = useMenuScope();
  return useQuery({ queryKey: menuKeys.items(scope), queryFn: () => fetchItems(scope) });
}

export function useCategories() {
  const scope = useMenuScope();
  return useQuery({ queryKey: menuKeys.categories(scope), queryFn: () => fetchCategories(scope) });
}

export function useTimeSlots(enabled = true) {
  return useQuery({ queryKey: ["time-slots"], queryFn: fetchTimeSlots, enabled });
}

/** The one-tap availability switch: flips at once, puts it back if the server refuses. */
export function useAvailability() {
  const queryClient = useQueryClient();
  const scope = useMenuScope();
  const key = menuKeys.items(scope);
  return useMutation({
    mutationFn: ({ item, available }: { item: MenuItem; available: boolean }) => setAvailability(item.id, available),
    onMutate: async ({ item, available }) => {
      await queryClient.cancelQueries({ queryKey: key });
      const previous = queryClient.getQueryData<MenuItem[]>(key);
      queryClient.setQueryData<MenuItem[]>(key, (items) =>
        items?.map((i) => (i.id === item.id ? { ...i, is_available: available } : i)),
      );
      return { previous };
    },
    onError: (_error, _vars, context) => {
      if (context?.previous) queryClient.setQueryData(key, context.previous);
    },
    onSuccess: (saved) => {
      queryClient.setQueryData<MenuItem[]>(key, (items) => items?.map((i) => (i.id === saved.id ? saved : i)));
      queryClient.setQueryData(menuKeys.item(saved.id), saved);
    },
  });
}

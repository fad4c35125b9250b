import { keepPreviousData, useQuery } from "@tanstack/react-query";

import { fetchOrder } from "@/features/board/api/orders";

import { searchOrders, type OrderFilters } from "../api/orders";

export function useOrderSearch(filters: OrderFilters) {
  return useQuery({
    queryKey: ["orders", filters],
    queryFn: () => searchOrders(filters),
    placeholderData: keepPreviousData,
  });
}

export function useOrder(orderId: string) {
  return useQuery({ queryKey: ["order", orderId], queryFn: () => fetchOrder(orderId), staleTime: 0 });
}

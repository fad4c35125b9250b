import { useMutation, useQueryClient } from "@tanstack/react-query";

import { ApiError } from "@/lib/api";
import type { KitchenOrderDetail, StaffTarget } from "@/lib/api-types";

import { assignDelivery, changeStatus, handover } from "../api/orders";
import { refreshOrder } from "./use-kitchen-feed";
import { acknowledge, mergeOrder } from "./stores";

type Action =
  | { kind: "status"; status: StaffTarget; reason?: string }
  | { kind: "handover"; pickupCode: string }
  | { kind: "assign"; staffId: string };

/** Codes that mean "the ticket on screen is out of date": read it again. */
const STALE = new Set(["INVALID_TRANSITION", "PAYMENT_PENDING", "DELIVERY_NOT_ASSIGNED", "NOT_FOUND"]);

export function useTicketAction(orderId: string) {
  const queryClient = useQueryClient();
  return useMutation<KitchenOrderDetail, unknown, Action>({
    mutationKey: ["ticket", orderId],
    mutationFn: (action) => {
      switch (action.kind) {
        case "status":
          return changeStatus(orderId, action.status, action.reason ? { reason: action.reason } : {});
        case "handover":
          return handover(orderId, action.pickupCode);
        case "assign":
          return assignDelivery(orderId, action.staffId);
      }
    },
    onSuccess: (order) => {
      acknowledge(orderId);
      mergeOrder(order, Date.now());
      queryClient.setQueryData(["order", orderId], order);
      void queryClient.invalidateQueries({ queryKey: ["orders"] });
    },
    onError: (error) => {
      if (error instanceof ApiError && STALE.has(error.code)) {
        void refreshOrder(queryClient, orderId).catch(() => undefined);
      }
    },
  });
}

import { useMutation, useQueryClient } from "@tanstack/react-query";

import { recallOrder } from "../api/recall";
import { reopenOrder } from "./stores";
import { forgetMove } from "./recall";
import { refreshOrder } from "./use-kitchen-feed";

/** Recall a move; the ticket comes back on the board as the API now shows it. */
export function useRecall(orderId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationKey: ["recall", orderId],
    mutationFn: (reason: string) => recallOrder(orderId, reason),
    onSuccess: async () => {
      forgetMove(orderId);
      reopenOrder(orderId);
      await refreshOrder(queryClient, orderId);
      void queryClient.invalidateQueries({ queryKey: ["orders"] });
    },
  });
}

import { useMutation, useQueryClient } from "@tanstack/react-query";

import { markLine } from "@/features/stations/api/stations";

import { marksKey, type Marks } from "./stations-view";
import { refreshOrder } from "./use-kitchen-feed";

/** Mark a line done or undone; every board hears it on the kitchen stream too. */
export function useLineDone(orderId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationKey: ["line-done", orderId],
    mutationFn: ({ position, done }: { position: number; done: boolean }) => markLine(orderId, position, done),
    onSuccess: (result) => {
      queryClient.setQueryData<Marks>(marksKey, (marks = {}) => ({ ...marks, [orderId]: result.done }));
      // With auto-ready on, the last line can have turned the order ready.
      void refreshOrder(queryClient, orderId).catch(() => undefined);
    },
    onError: () => void queryClient.invalidateQueries({ queryKey: marksKey }),
  });
}

import { Button } from "@/components/Button";
import type { KitchenOrder } from "@/lib/api-types";

import { printTicket } from "../print-ticket";

/** "Print ticket" on a board ticket: the KOT in the 80 mm print layout. */
export function PrintButton({ order, describedBy }: { order: KitchenOrder; describedBy?: string }) {
  return (
    <Button size="sm" variant="ghost" onClick={() => printTicket(order)} aria-describedby={describedBy}>
      Print ticket
    </Button>
  );
}

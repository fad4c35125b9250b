import { useEffect, useState, type FormEvent } from "react";

import { Button } from "@/components/Button";
import { Dialog } from "@/components/Dialog";
import { ErrorSummary, fieldErrors } from "@/components/ErrorSummary";
import { Field } from "@/components/Field";
import { Loading } from "@/components/States";

import { useDish, useStockChange } from "../hooks/use-stock";

export interface Dish {
  menuItemId: string;
  name: string;
}

interface StockDialogProps {
  /** The dishes to choose from (one from the all-day panel, a ticket's from a ticket). */
  dishes: Dish[];
  open: boolean;
  onClose: () => void;
}

/** "86" from the board: sold out, back on, or how many portions are left today. */
export function StockDialog({ dishes, open, onClose }: StockDialogProps) {
  const [chosen, setChosen] = useState(dishes[0]?.menuItemId ?? "");
  const dish = useDish(open && chosen ? chosen : null);
  const change = useStockChange(chosen || null);
  const [left, setLeft] = useState("");
  const item = dish.data;

  useEffect(() => {
    if (open) change.reset();
    // eslint-disable-next-line react-hooks/exhaustive-deps -- reset once per opening
  }, [open, chosen]);
  useEffect(() => {
    setLeft(item?.stock_remaining === null || item === undefined ? "" : String(item.stock_remaining));
  }, [item]);

  const name = dishes.find((d) => d.menuItemId === chosen)?.name ?? "dish";
  const done = { onSuccess: onClose };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    change.mutate({ kind: "left", left: left.trim() === "" ? null : Number(left) }, done);
  };
  return (
    <Dialog open={open} onClose={onClose} title={`Stock of ${name}`}>
      <form onSubmit={submit} noValidate>
        {dishes.length > 1 ? (
          <Field label="Dish">
            <select value={chosen} onChange={(e) => setChosen(e.target.value)}>
              {dishes.map((d) => (
                <option key={d.menuItemId} value={d.menuItemId}>
                  {d.name}
                </option>
              ))}
            </select>
          </Field>
        ) : null}
        {dish.isPending ? <Loading label="Reading the menu…" /> : null}
        {dish.error ? <ErrorSummary error={dish.error} /> : null}
        {item ? (
          <>
            <p className="stock-now" role="status">
              {!item.is_available
                ? "Sold out (86'd): students cannot order it."
                : item.stock_remaining === null
                  ? "On the menu, no count today."
                  : item.stock_remaining === 0
                    ? "Sold out: none left today."
                    : `On the menu: ${item.stock_remaining} left today.`}
            </p>
            <div className="stock-switch">
              {item.is_available ? (
                <Button
                  variant="danger"
                  busy={change.isPending && change.variables?.kind === "available"}
                  onClick={() => change.mutate({ kind: "available", available: false }, done)}
                >
                  Sold out (86)
                </Button>
              ) : (
                <Button
                  variant="success"
                  busy={change.isPending && change.variables?.kind === "available"}
                  onClick={() => change.mutate({ kind: "available", available: true }, done)}
                >
                  Back on the menu
                </Button>
              )}
            </div>
            <Field
              label="Portions left today"
              hint="Empty: no count. 0: sold out until refilled."
              errors={fieldErrors(change.error, "stock_remaining")}
            >
              <input
                type="number"
                inputMode="numeric"
                min={0}
                max={100000}
                value={left}
                onChange={(e) => setLeft(e.target.value)}
              />
            </Field>
          </>
        ) : null}
        <ErrorSummary error={change.error} shownFields={["stock_remaining"]} />
        <div className="dialog-footer">
          <Button onClick={onClose}>Back</Button>
          <Button
            type="submit"
            variant="primary"
            busy={change.isPending && change.variables?.kind === "left"}
            disabled={!item}
          >
            Set portions left
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

import type { Diet } from "@/lib/api-types";

const LABEL: Record<Diet, string> = { veg: "Veg", egg: "Egg", non_veg: "Non-veg" };

/** The Indian food mark (a square with a dot or triangle), with its name for everyone. */
export function DietMark({ diet, withText = false }: { diet: Diet; withText?: boolean }) {
  return (
    <span className={`diet diet-${diet}`} title={LABEL[diet]}>
      <span className="diet-box" aria-hidden="true">
        <span className="diet-symbol" />
      </span>
      <span className={withText ? "diet-text" : "visually-hidden"}>{LABEL[diet]}</span>
    </span>
  );
}

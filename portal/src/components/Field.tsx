import { cloneElement, isValidElement, useId, type ReactElement, type ReactNode } from "react";

interface FieldProps {
  label: ReactNode;
  /** The control: an <input>, <select> or <textarea>; it gets id and aria attributes. */
  children: ReactElement<Record<string, unknown>>;
  hint?: ReactNode;
  errors?: string[];
  className?: string;
}

/** A labelled form control with its hint and its errors, wired for screen readers. */
export function Field({ label, children, hint, errors = [], className }: FieldProps) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = errors.length ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(" ") || undefined;
  const control = isValidElement(children)
    ? cloneElement(children, {
        id,
        "aria-invalid": errors.length ? true : undefined,
        "aria-describedby": describedBy,
      })
    : children;
  return (
    <div className={["field", errors.length ? "field-invalid" : "", className].filter(Boolean).join(" ")}>
      <label htmlFor={id}>{label}</label>
      {control}
      {hint ? (
        <p className="field-hint" id={hintId}>
          {hint}
        </p>
      ) : null}
      {errors.length ? (
        <p className="field-error" id={errorId}>
          {errors.join(" ")}
        </p>
      ) : null}
    </div>
  );
}

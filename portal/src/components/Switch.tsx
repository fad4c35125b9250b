import type { ReactNode } from "react";

interface SwitchProps {
  checked: boolean;
  onChange: (checked: boolean) => void;
  /** The accessible name ("Masala Dosa available"); the state is read from aria-checked. */
  label: string;
  /** Visible text beside the switch. */
  children?: ReactNode;
  disabled?: boolean;
  /** A change is being saved: further taps are ignored, focus stays on the switch. */
  busy?: boolean;
  describedBy?: string;
  className?: string;
}

/** A one-tap on/off control (role="switch"; Space or Enter toggles it). */
export function Switch({ checked, onChange, label, children, disabled, busy, describedBy, className }: SwitchProps) {
  return (
    <button
      type="button"
      role="switch"
      aria-checked={checked}
      aria-label={label}
      aria-describedby={describedBy}
      aria-busy={busy || undefined}
      disabled={disabled}
      className={["switch", checked ? "switch-on" : "switch-off", className].filter(Boolean).join(" ")}
      onClick={() => {
        if (!busy) onChange(!checked);
      }}
    >
      <span className="switch-track" aria-hidden="true">
        <span className="switch-thumb" />
      </span>
      {children ? (
        <span className="switch-label" aria-hidden="true">
          {children}
        </span>
      ) : null}
    </button>
  );
}

import { Button } from "@/components/Button";

import "../styles/options.css";

import { emptyGroup, emptyOption, type GroupForm, type OptionForm } from "../hooks/option-form";

interface Props {
  groups: GroupForm[];
  onChange: (groups: GroupForm[]) => void;
  errors: string[];
}

/** Option groups of a dish (half/full, filling, add-ons): each with its rules and options,
 * each option with its extra price and its own availability. */
export function OptionGroupsEditor({ groups, onChange, errors }: Props) {
  const setGroup = (index: number, patch: Partial<GroupForm>) =>
    onChange(groups.map((g, n) => (n === index ? { ...g, ...patch } : g)));
  const setOption = (index: number, at: number, patch: Partial<OptionForm>) =>
    setGroup(index, { options: groups[index]!.options.map((o, n) => (n === at ? { ...o, ...patch } : o)) });

  return (
    <fieldset
      className={`fieldset option-groups ${errors.length ? "field-invalid" : ""}`}
      aria-describedby={errors.length ? "option-groups-error" : undefined}
    >
      <legend>Options</legend>
      {groups.length === 0 ? <p className="muted">No options: the dish is ordered as it is.</p> : null}
      {groups.map((group, index) => {
        const label = group.name.trim() || `Group ${index + 1}`;
        return (
          <section key={group.id ?? `new-${index}`} className="option-group" aria-label={`Option group ${label}`}>
            <div className="form-row">
              <label className="field">
                Group name
                <input
                  value={group.name}
                  maxLength={60}
                  placeholder="e.g. Filling"
                  onChange={(e) => setGroup(index, { name: e.target.value })}
                />
              </label>
              <label className="field">
                Choice
                <select
                  value={group.kind}
                  onChange={(e) => setGroup(index, { kind: e.target.value as GroupForm["kind"] })}
                >
                  <option value="single">One of them</option>
                  <option value="multiple">Any of them</option>
                </select>
              </label>
              {group.kind === "multiple" ? (
                <label className="field">
                  At most
                  <input
                    type="number"
                    min={1}
                    max={group.options.length}
                    value={group.max_select}
                    placeholder={String(group.options.length)}
                    onChange={(e) => setGroup(index, { max_select: e.target.value })}
                  />
                </label>
              ) : null}
              <label className="check">
                <input
                  type="checkbox"
                  checked={group.required}
                  onChange={(e) => setGroup(index, { required: e.target.checked })}
                />
                Required
              </label>
            </div>
            <ul className="option-list">
              {group.options.map((option, at) => {
                const optionLabel = option.name.trim() || `option ${at + 1}`;
                return (
                  <li key={option.id ?? `new-${at}`} className="option-row">
                    <input
                      aria-label={`${label}: option ${at + 1} name`}
                      value={option.name}
                      maxLength={60}
                      placeholder="e.g. Cheese"
                      onChange={(e) => setOption(index, at, { name: e.target.value })}
                    />
                    <input
                      aria-label={`${label}: extra price of ${optionLabel} (₹)`}
                      inputMode="decimal"
                      value={option.price}
                      onChange={(e) => setOption(index, at, { price: e.target.value })}
                    />
                    <label className="check">
                      <input
                        type="checkbox"
                        checked={option.is_available}
                        onChange={(e) => setOption(index, at, { is_available: e.target.checked })}
                      />
                      Available
                    </label>
                    <Button
                      variant="ghost"
                      aria-label={`Remove ${optionLabel} from ${label}`}
                      onClick={() => setGroup(index, { options: group.options.filter((_, n) => n !== at) })}
                    >
                      Remove
                    </Button>
                  </li>
                );
              })}
            </ul>
            <div className="option-actions">
              <Button
                variant="secondary"
                onClick={() => setGroup(index, { options: [...group.options, emptyOption()] })}
              >
                Add option to {label}
              </Button>
              <Button variant="ghost" onClick={() => onChange(groups.filter((_, n) => n !== index))}>
                Remove group {label}
              </Button>
            </div>
          </section>
        );
      })}
      <Button variant="secondary" onClick={() => onChange([...groups, emptyGroup()])}>
        Add option group
      </Button>
      {errors.length ? (
        <p className="field-error" id="option-groups-error">
          {errors.join(" ")}
        </p>
      ) : null}
    </fieldset>
  );
}

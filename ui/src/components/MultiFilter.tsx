import { useState } from 'react';
import { splitList } from './findingsQuery';

/** A filter with several values at once, kept as a comma list (the API's form). */
export function MultiFilter({ label, options, value, onChange }: { label: string; options: { value: string; label: string }[]; value: string; onChange: (v: string) => void }) {
  const [open, setOpen] = useState(false);
  const chosen = splitList(value);
  const toggle = (v: string) => {
    const next = chosen.includes(v) ? chosen.filter((c) => c !== v) : [...chosen, v];
    onChange(next.join(','));
  };
  return (
    <div className="multi-filter">
      <button type="button" aria-expanded={open} aria-label={`${label} filter`} onClick={() => setOpen((o) => !o)}>
        {label}: {chosen.length === 0 ? 'Any' : chosen.join(', ')} ▾
      </button>
      {open && (
        <fieldset className="multi-options">
          <legend className="sr-only">{label}</legend>
          {options.map((o) => (
            <label key={o.value}>
              <input type="checkbox" checked={chosen.includes(o.value)} onChange={() => toggle(o.value)} /> {o.label}
            </label>
          ))}
        </fieldset>
      )}
    </div>
  );
}

/**
 * The <option>s of a select over a fixed list: `values`, each shown as
 * `label(value)` (the value itself by default), or the entries of `labels` in
 * their order. Every such select spelled out the same map; this is it once.
 */
export function Options<T extends string | number>(props: { values: readonly T[]; label?: (value: T) => string } | { labels: Record<T, string> }) {
  const entries: [T, string][] =
    'labels' in props ? (Object.entries(props.labels) as [T, string][]) : props.values.map((v) => [v, (props.label ?? String)(v)]);
  return (
    <>
      {entries.map(([value, label]) => (
        <option key={value} value={value}>
          {label}
        </option>
      ))}
    </>
  );
}

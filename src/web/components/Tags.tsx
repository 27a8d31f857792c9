export function Tags({ tags }: { tags: Record<string, string> }) {
  const entries = Object.entries(tags).sort(([a], [b]) => a.localeCompare(b));
  if (!entries.length) return <span className="muted">none</span>;
  return (
    <span className="tags">
      {entries.map(([k, v]) => (
        <span className="tag" key={k}>
          {k}={v}
        </span>
      ))}
    </span>
  );
}

export function Spinner({ small = false }: { small?: boolean }) {
  return <span className={`spinner${small ? ' spinner-small' : ''}`} aria-hidden="true" />;
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <Spinner />
      <span>{label}</span>
    </div>
  );
}

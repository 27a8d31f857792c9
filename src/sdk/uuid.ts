const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A UUID in its usual text form (any version, either case): what PostgreSQL's `uuid` accepts from kiln's callers. */
export function isUuid(s: string): boolean {
  return UUID.test(s);
}

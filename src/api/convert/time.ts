/**
 * RFC 3339 in UTC the way Go prints it: fractional seconds without trailing zeros (none at all when zero).
 * PostgreSQL keeps microseconds; JS dates keep milliseconds, so at most 3 fractional digits come out here.
 */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac ? `.${frac}Z` : 'Z'));
}

export function optionalTime(d: Date | null | undefined): string | undefined {
  return d ? rfc3339(d) : undefined;
}

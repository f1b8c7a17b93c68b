/** Prometheus text for a number: integers plainly, +Inf/-Inf/NaN by name. */
export function numText(v: number): string {
  if (Number.isFinite(v)) return String(v);
  return Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
}

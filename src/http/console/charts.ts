// Health at a glance: the last 24 hours per hour, drawn on the server as inline SVG (no script, no external
// asset, so the console's CSP stays `default-src 'none'`).

export interface HourBars {
  /** 24 hourly values, oldest first, per stacked series. */
  series: { name: string; color: string; values: number[] }[];
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The 24 hour keys (`YYYY-MM-DDTHH`, UTC) ending with the current hour. */
export function last24Hours(now = Date.now()): string[] {
  const end = Math.floor(now / 3_600_000) * 3_600_000;
  return Array.from({ length: 24 }, (_, i) => new Date(end - (23 - i) * 3_600_000).toISOString().slice(0, 13));
}

/** Stacked hourly bars, 24 wide, with a title per bar (hour and values) for hover. */
export function hourlyBarsSvg(chart: HourBars, hours: string[], label: string): string {
  const width = 24 * 8;
  const height = 36;
  const totals = hours.map((_, i) => chart.series.reduce((n, s) => n + (s.values[i] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const bars = hours
    .map((hour, i) => {
      let y = height;
      const parts = chart.series.map((s) => {
        const h = Math.round(((s.values[i] ?? 0) / max) * height);
        y -= h;
        return h > 0 ? `<rect x="${i * 8}" y="${y}" width="7" height="${h}" fill="${s.color}"/>` : "";
      });
      const title = `${hour}:00Z ${chart.series.map((s) => `${s.name} ${s.values[i] ?? 0}`).join(", ")}`;
      return `<g><title>${esc(title)}</title><rect x="${i * 8}" y="0" width="7" height="${height}" fill="#f3f4f6"/>${parts.join("")}</g>`;
    })
    .join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${esc(label)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${bars}</svg>`;
}

/** p50 and p95 of a list of numbers (nearest rank), or null when empty. */
export function percentiles(xs: number[]): { p50: number; p95: number } | null {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
  return { p50: at(0.5), p95: at(0.95) };
}

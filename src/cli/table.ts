/** Renders rows as an aligned text table; numbers are right-aligned. */
export function renderTable(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((row) => row.map((cell) => (typeof cell === "number" ? formatNumber(cell) : cell)))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? "").length)));
  const numeric = headers.map((_, column) => rows.length > 0 && rows.every((row) => typeof row[column] === "number"));
  const line = (row: string[]): string =>
    row
      .map((cell, column) => (numeric[column] ? cell.padStart(widths[column]) : cell.padEnd(widths[column])))
      .join("  ")
      .trimEnd();
  return [line(cells[0]), widths.map((width) => "-".repeat(width)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

/**
 * Integers with thousands separators; other numbers with 2 decimals. Written out rather than
 * `toLocaleString`: its first call loads ICU's locale data, about 18 ms of a command's start.
 */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const text = Number.isInteger(value) ? Math.abs(value).toFixed(0) : Math.abs(value).toFixed(2);
  const point = text.indexOf(".");
  const whole = point < 0 ? text : text.slice(0, point);
  const grouped = whole.replace(/\B(?=(\d{3})+$)/g, ",");
  return (value < 0 ? "-" : "") + grouped + (point < 0 ? "" : text.slice(point));
}

/** `part` as a percentage of `whole` with two decimals, or "-" when `whole` is 0. */
export function formatPercent(part: number, whole: number): string {
  return whole === 0 ? "-" : ((100 * part) / whole).toFixed(2) + "%";
}

/** How the benchmarks print: human-readable lines and tables to `report`, figures as one JSON document. */
import { JSON_TO_STDOUT, writeJsonReport } from "../../src/cli/report.js";
import { renderTable } from "../../src/cli/table.js";

export { JSON_TO_STDOUT };

/**
 * Where a benchmark's human-readable lines (tables, notes, "wrote ..." lines) go: standard
 * output, or standard error when standard output carries its JSON document (`--json -`),
 * so that standard output is exactly one parseable document.
 */
export const report = {
  stream: process.stdout as NodeJS.WritableStream,
  write(text: string): void {
    this.stream.write(text);
  },
};

/** Writes a benchmark's figures as one JSON document to `path`, atomically, or to standard output for `-`. */
export function writeJsonDocument(path: string, document: unknown): void {
  writeJsonReport(path, document);
  if (path !== JSON_TO_STDOUT) report.write(`wrote ${path}\n`);
}

/** A table (the CLI's layout) to `report`, then `after` (notes, or the blank line before the next table). */
export function reportTable(columns: string[], rows: (string | number)[][], after = "\n"): void {
  report.write(renderTable(columns, rows) + after);
}

/** "WHAT skipped: WHY": a contestant or input this machine lacks, left out of the run. */
export function reportSkipped(what: string, why: string): void {
  report.write(`${what} skipped: ${why}\n`);
}

/** A dot on stderr per measurement: progress through a long matrix of them. */
export const progress = {
  step(): void {
    process.stderr.write(".");
  },
  done(): void {
    process.stderr.write("\n");
  },
};

/** A figure or "-" where there is none. */
export function dash(value: string | number | null | undefined): string | number {
  return value === null || value === undefined ? "-" : value;
}

import { writeFileAtomic } from "../util/output-file.js";

/**
 * The one meaning of `--json FILE` in every command that reports figures: the figures as one
 * JSON document, written atomically to FILE, or to standard output for `-`. When the JSON
 * owns standard output, the human-readable report goes to standard error.
 */
export const JSON_TO_STDOUT = "-";

/** Where human-readable output goes, given the command's --json target (if any). */
export function humanOutput(jsonTarget: string | undefined): NodeJS.WriteStream {
  return jsonTarget === JSON_TO_STDOUT ? process.stderr : process.stdout;
}

/** Writes `figures` as the command's JSON document to `jsonTarget` (a file, or `-`). */
export function writeJsonReport(jsonTarget: string, figures: unknown, inputPaths: readonly string[] = []): void {
  const text = JSON.stringify(figures, null, 2) + "\n";
  if (jsonTarget === JSON_TO_STDOUT) process.stdout.write(text);
  else writeFileAtomic(jsonTarget, text, inputPaths);
}

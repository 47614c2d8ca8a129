import { createRequire } from "node:module";

/** cli-progress, loaded when a bar is first drawn: runs that draw none (a pipe, a small trace) do not pay for loading it. */
function loadCliProgress(): typeof import("cli-progress") {
  return createRequire(import.meta.url)("cli-progress") as typeof import("cli-progress");
}

/** A progress callback `(done, total)`; draws a bar on stderr only when it is a terminal. */
export interface Progress {
  /** `total` 0 means unknown (a pipe): then only the amount done is shown. */
  update(done: number, total: number): void;
  /** Removes the bar, if one was drawn. */
  stop(): void;
}

/**
 * A progress callback labelled `label` that shows `unit` (bytes as MiB, ops as millions); draws nothing
 * unless stderr is a terminal.
 */
export function startProgress(label: string, unit: "bytes" | "ops" | "kills"): Progress {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const unitName = unit === "bytes" ? "MiB" : unit === "ops" ? "Mops" : unit;
  const scale = unit === "bytes" ? 1 / (1 << 20) : unit === "ops" ? 1e-6 : 1;
  // Made at the first update, which says whether the total is known.
  let bar: import("cli-progress").SingleBar | undefined;
  return {
    update(done: number, total: number) {
      const value = Math.round(done * scale);
      if (bar === undefined) {
        const cliProgress = loadCliProgress();
        bar = new cliProgress.SingleBar(
          {
            format: total === 0 ? `${label} {value} ${unitName}` : `${label} [{bar}] {percentage}% | {value}/{total} ${unitName} | eta {eta}s`,
            stream: process.stderr,
            hideCursor: true,
            clearOnComplete: true,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(Math.max(1, Math.round(total * scale)), value);
      } else bar.update(value);
    },
    stop() {
      bar?.stop();
    },
  };
}

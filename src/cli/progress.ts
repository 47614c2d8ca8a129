import { createRequire } from "node:module";

/** cli-progress, loaded when a bar is first drawn: runs that draw none (a pipe, a small trace) do not pay for loading it. */
function loadCliProgress(): typeof import("cli-progress") {
  return createRequire(import.meta.url)("cli-progress") as typeof import("cli-progress");
}

/** A progress callback `(done, total)`; draws a bar on stderr only when it is a terminal. */
export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

export function startProgress(label: string, unit: "bytes" | "ops" | "kills"): Progress {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const cliProgress = loadCliProgress();
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit === "bytes" ? "MiB" : unit === "ops" ? "Mops" : unit} | eta {eta}s`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const scale = unit === "bytes" ? 1 / (1 << 20) : unit === "ops" ? 1e-6 : 1;
  let started = false;
  return {
    update(done: number, total: number) {
      const value = Math.round(done * scale);
      if (!started) {
        bar.start(Math.max(1, Math.round(total * scale)), value);
        started = true;
      } else bar.update(value);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

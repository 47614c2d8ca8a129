// Bundles the `memspace` command into one CommonJS file, dist/src/cli/memspace.cjs, after tsc.
//
// Why: Node 20 loads each ES module through its ESM loader (resolve, package scope lookups,
// an async read, a compile), which for the thirty-odd modules of `memspace replay` cost more
// than the replay of a small trace. One CommonJS file loads in a single read and compile:
// `memspace --help` and a replay of an empty trace then start within about 20 ms of `node -e
// 0` (bench/startup.ts measures it). The library (dist/src/index.js) is not bundled.
//
// The bundle sits beside dist/src/cli/main.js, so paths the code resolves against its own
// module URL (package.json, the benches, a re-spawned CLI) resolve the same from either. The
// worker threads and child processes the code starts by a path relative to its module are
// given small entry files beside the bundle that load the real modules.
import { build } from "esbuild";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const CLI_FOLDER = fileURLToPath(new URL("../dist/src/cli/", import.meta.url));

await build({
  entryPoints: [CLI_FOLDER + "main.js"],
  outfile: CLI_FOLDER + "memspace.cjs",
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  // Loaded on demand (createRequire): cli-progress when a progress bar is drawn, vega and
  // vega-lite when `trace report` draws its charts.
  external: ["cli-progress", "vega", "vega-lite"],
  // import.meta does not exist in CommonJS: the bundle's own URL stands in for every module's.
  define: { "import.meta.url": "__memspaceBundleUrl" },
  inject: [fileURLToPath(new URL("./bundle-module-url.mjs", import.meta.url))],
  logLevel: "warning",
});

/** Workers and children started by a path relative to their parent module. */
const RELATIVE_ENTRIES = {
  "read-ahead-worker.js": "../trace/read-ahead-worker.js",
  "write-behind-worker.js": "../util/write-behind-worker.js",
  "decode-worker.js": "../trace/v2/decode-worker.js",
  "stats-worker.js": "../trace/stats-worker.js",
  "report-worker.js": "../trace/report/report-worker.js",
  "reuse-worker.js": "../trace/cache/reuse-worker.js",
  "cache-worker.js": "../trace/cache/cache-worker.js",
  "crash-child.js": "../crash/crash-child.js",
  "frames-crash-worker.js": "../crash/frames-crash-worker.js",
};
for (const [name, target] of Object.entries(RELATIVE_ENTRIES)) {
  writeFileSync(CLI_FOLDER + name, `// Entry beside the bundled CLI (scripts/bundle-cli.mjs): the real module.\nimport "${target}";\n`);
}

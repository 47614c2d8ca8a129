/**
 * The package as a user gets it: `npm pack` (of the build `npm test` has just made), installed
 * into an empty project, its `memspace` bin run and its types checked by a TypeScript consumer.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { fibonacciMod64 } from "../../src/guest/fib-guest.js";

const run = promisify(execFile);
/** dist/test/ -> the repository. */
const REPO_ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const TSC = join(REPO_ROOT, "node_modules/typescript/bin/tsc");
const TYPE_ROOTS = join(REPO_ROOT, "node_modules/@types");
/** npm's codes for a registry it cannot reach. */
const NETWORK_ERROR = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH)\b/;
const FIB_ITERATIONS = 30;

/**
 * The module settings a consumer may type-check under, each with isolatedModules. One also
 * checks the package's declaration files (skipLibCheck false), which takes the others' time
 * again (most of it in @types/node).
 */
const CONSUMER_SETTINGS = [
  { module: "node16", moduleResolution: "node16", skipLibCheck: true },
  { module: "nodenext", moduleResolution: "nodenext", skipLibCheck: false },
  { module: "esnext", moduleResolution: "bundler", skipLibCheck: true },
  { module: "commonjs", moduleResolution: "node", skipLibCheck: true },
] as const;

/** Uses the public API's types; the internals must not be importable. */
const CONSUMER_SOURCE = `
import {
  AddressSpace, Heap, FrameAllocator, AllocatorFrameStore, SpaceHeap, createBackend, BACKEND_KINDS, replayFile, TraceStats,
  runGuest, GuestError, GuestLoadError, TraceFormatError, HeapError, FileMedium,
  type BackendKind, type MemoryAccess, type HeapBacking, type FrameStore, type HeapOptions, type HeapStats,
  type AddressSpaceOptions, type AddressSpaceStats, type FrameAllocatorOptions, type PageFrameAllocator, type RunGuestResult,
} from "memspace";
import { AddressSpace as SpaceFromSubpath, type AddressSpaceOptions as SubpathOptions } from "memspace/space";
import { replayFile as replayFromSubpath } from "memspace/trace";
import { runGuest as runFromSubpath, type StopReason } from "memspace/guest";
import { Heap as HeapFromSubpath } from "memspace/alloc";
import { FileMedium as MediumFromSubpath } from "memspace/persist";
// @ts-expect-error the trace format's const enum is internal
import type { TraceFormat } from "memspace";
// @ts-expect-error test coordination is internal
import { coordinate } from "memspace";

const kind: BackendKind = BACKEND_KINDS[2];
const options: AddressSpaceOptions = { backend: createBackend(kind) };
const space = new AddressSpace(options);
const spaceStats: AddressSpaceStats = space.stats();
const backing: HeapBacking = new ArrayBuffer(1 << 20);
const heapOptions: HeapOptions = { debug: true };
const heap = new Heap(backing, heapOptions);
const heapStats: HeapStats = heap.stats();
const frameOptions: FrameAllocatorOptions = { frames: 1024, backed: true };
const frames: PageFrameAllocator = FrameAllocator.create(frameOptions);
const store: FrameStore = new AllocatorFrameStore(FrameAllocator.create(frameOptions));
const spaceHeap = new SpaceHeap(space, 1n << 40n, 1 << 20);
const sink: MemoryAccess = new TraceStats();
const replayed: bigint = replayFile("t.trace", sink).checksum;
const guest: RunGuestResult = runGuest("fib.elf");
const errors: Error[] = [new GuestError("x", 0n), new GuestLoadError("f", "x"), new TraceFormatError("f", 0, "x"), new HeapError("x")];
const subpathOptions: SubpathOptions = {};
const stopReason: StopReason = runFromSubpath("fib.elf").stopReason;
const subpaths = [new SpaceFromSubpath(subpathOptions), replayFromSubpath, HeapFromSubpath, MediumFromSubpath, stopReason];
export { spaceStats, heapStats, frames, store, spaceHeap, replayed, guest, errors, FileMedium, subpaths };
`;

/** Names the package must export at run time, and internals it must not. */
const PUBLIC_NAMES = ["AddressSpace", "createBackend", "BACKEND_KINDS", "PagedBackend", "replayFile", "streamTrace", "TraceWriter", "TraceStats", "generateTrace", "importLackey", "TraceFormatError", "runGuest", "GuestError", "GuestLoadError", "buildFibGuest", "FrameAllocator", "BitmapScanAllocator", "LockedBuddyAllocator", "Heap", "HeapError", "SpaceHeap", "AllocatorFrameStore", "FileMedium", "runCrashTest"];
const INTERNAL_NAMES = ["Participant", "coordinate", "createControlBuffer", "loadCrossing", "fetchByParcels", "recordProblem", "STREAM_CHUNK_BYTES", "TraceFormat"];

interface Installed {
  consumer: string;
  bin: string;
}

interface Packed {
  /** The tarball's paths. */
  files: string[];
  /** The project it is installed in, or why the install is skipped. */
  installed: Installed | string;
}

/** The parent's npm run sets npm_config_local_prefix to the repository: a nested install would go there. */
function npmEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.npm_config_local_prefix;
  return env;
}

async function packAndInstall(folder: string): Promise<Packed> {
  const packed = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", folder], { cwd: REPO_ROOT, env: npmEnv() });
  const [report] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const files = report.files.map((file) => file.path);
  const consumer = join(folder, "consumer");
  mkdirSync(consumer);
  writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  try {
    await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--prefix", consumer, join(folder, report.filename)], { cwd: consumer, env: npmEnv() });
  } catch (error) {
    const output = `${(error as { stderr?: string }).stderr ?? ""}${(error as Error).message}`;
    const network = NETWORK_ERROR.exec(output);
    if (network === null || process.env.CI) throw error;
    return { files, installed: `npm cannot reach a registry for the package's dependencies (${network[1]})` };
  }
  return { files, installed: { consumer, bin: join(consumer, "node_modules/.bin/memspace") } };
}

describe("the packed package, installed in an empty project", { concurrency: true }, () => {
  const folder = mkdtempSync(join(tmpdir(), "memspace-package-"));
  let packed: Packed;
  before(async () => {
    packed = await packAndInstall(folder);
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  /** The installation, or null when the test is skipped for want of a registry. */
  function installation(t: TestContext): Installed | null {
    if (typeof packed.installed !== "string") return packed.installed;
    t.skip(packed.installed);
    return null;
  }

  async function memspace(setup: Installed, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
    return run(setup.bin, args, { cwd: setup.consumer });
  }

  it("ships the CLI's run-time files and the benches' C sources; no tests, sources or maps", () => {
    for (const file of ["LICENSE", "dist/src/index.js", "dist/src/index.d.ts", "dist/src/cli/main.js", "dist/src/cli/memspace.cjs", "dist/src/cli/read-ahead-worker.js", "dist/src/trace/read-ahead-worker.js", "dist/src/crash/crash-child.js", "dist/bench/alloc.js", "bench/native/alloc-driver.c", "bench/native/frames-rand-model.c"]) {
      assert.ok(packed.files.includes(file), `${file} is in the package`);
    }
    const unwanted = packed.files.filter((file) => file.startsWith("dist/test/") || file.endsWith(".map") || (file.endsWith(".ts") && !file.endsWith(".d.ts")));
    assert.deepEqual(unwanted, []);
  });

  it("its memspace bin shows help, generates, inspects and replays a trace, runs a guest and a crash test", async (t) => {
    const setup = installation(t);
    if (setup === null) return;
    const trace = join(setup.consumer, "T");
    const elf = join(setup.consumer, "fib.elf");
    const [help, , crash] = await Promise.all([
      memspace(setup, "--help"),
      (async () => {
        const script = `import { buildFibGuest } from "memspace"; import { writeFileSync } from "node:fs"; writeFileSync(${JSON.stringify(elf)}, buildFibGuest(${FIB_ITERATIONS}));`;
        await run(process.execPath, ["--input-type=module", "-e", script], { cwd: setup.consumer });
      })(),
      memspace(setup, "crash-test", "image", "--kills", "3"),
      memspace(setup, "trace", "gen", "--shape", "fib", "--ops", "1000", "-o", trace),
    ]);
    assert.match(help.stdout, /Usage: memspace/);
    assert.match(crash.stdout, /^recovered\s+3$/m);
    assert.match(crash.stdout, /^violations\s+0$/m);
    const [replay, stats, guest] = await Promise.all([memspace(setup, "replay", trace), memspace(setup, "trace", "stats", trace, "--json", "-"), memspace(setup, "run", elf)]);
    assert.match(replay.stdout, /^paged\s+1,000\s/m);
    assert.equal(JSON.parse(stats.stdout).ops, 1000);
    assert.equal(guest.stdout, `${fibonacciMod64(FIB_ITERATIONS)}\n`);
    // trace report loads vega and vega-lite, left out of the bundle, from the installed dependencies.
    await memspace(setup, "trace", "report", trace, "-o", join(setup.consumer, "report.html"));
    assert.match(readFileSync(join(setup.consumer, "report.html"), "utf8"), /<figure class="chart" data-chart="heat-map"><svg/);
  });

  it("bench alloc runs without the devDependencies, saying in one line each what it leaves out", async (t) => {
    const setup = installation(t);
    if (setup === null) return;
    const json = join(setup.consumer, "alloc.json");
    const args = ["bench", "alloc", "--scale", "2000", "--runs", "1", "--rounds", "1", "--workloads", "tiny-churn"];
    const [bench, named, chart] = await Promise.all([
      memspace(setup, ...args, "--json", json),
      memspace(setup, ...args, "--allocators", "thi.ng").catch((error: { code: number; stderr: string }) => error),
      memspace(setup, ...args, "--allocators", "loop-js", "--chart", join(setup.consumer, "chart.svg")),
    ]);
    assert.match(bench.stdout, /^bench alloc: @thi\.ng\/malloc is not installed; install it to include thi\.ng, or pass --allocators \S+ to leave it out$/m);
    // vega and vega-lite are dependencies (trace report needs them): the chart beside the JSON is drawn.
    assert.doesNotMatch(bench.stdout, /no chart/);
    assert.match(readFileSync(join(setup.consumer, "alloc.svg"), "utf8"), /^<svg/);
    const allocators = (JSON.parse(readFileSync(json, "utf8")) as Array<{ allocator: string }>).map((record) => record.allocator);
    assert.ok(allocators.includes("memspace") && allocators.includes("loop-js"), allocators.join());
    assert.ok(!allocators.includes("thi.ng"));
    // Asked for by name, a missing package is an option error: one line and status 2.
    assert.equal("code" in named && named.code, 2);
    assert.equal(named.stderr, "bench alloc: @thi.ng/malloc is not installed; install it to include thi.ng, or leave thi.ng out of --allocators\n");
    assert.match(readFileSync(join(setup.consumer, "chart.svg"), "utf8"), /^<svg/, chart.stderr);
  });

  it("exports the public API by name at run time, and none of the internals", async (t) => {
    const setup = installation(t);
    if (setup === null) return;
    const script = `const names = Object.keys(await import("memspace")); process.stdout.write(JSON.stringify(names));`;
    const names = JSON.parse((await run(process.execPath, ["--input-type=module", "-e", script], { cwd: setup.consumer })).stdout) as string[];
    assert.deepEqual(PUBLIC_NAMES.filter((name) => !names.includes(name)), []);
    assert.deepEqual(INTERNAL_NAMES.filter((name) => names.includes(name)), []);
  });

  it("type-checks in a TypeScript consumer under node16, nodenext, bundler and node resolution with isolatedModules", async (t) => {
    const setup = installation(t);
    if (setup === null) return;
    writeFileSync(join(setup.consumer, "use.ts"), CONSUMER_SOURCE);
    await Promise.all(
      CONSUMER_SETTINGS.map(async (settings) => {
        const config = join(setup.consumer, `tsconfig.${settings.moduleResolution}.json`);
        const compilerOptions = { ...settings, target: "es2022", strict: true, isolatedModules: true, noEmit: true, types: ["node"], typeRoots: [TYPE_ROOTS] };
        writeFileSync(config, JSON.stringify({ compilerOptions, files: ["use.ts"] }));
        const check = await run(process.execPath, [TSC, "-p", config], { cwd: setup.consumer }).catch((error: { stdout: string }) => error);
        assert.equal(check.stdout, "", `moduleResolution ${settings.moduleResolution}`);
      }),
    );
  });
});

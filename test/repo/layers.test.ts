import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import { posix } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/**
 * The layers of the code base, lowest first. A file may import files of its own unit and of
 * units in lower layers; units that share a layer are peers and import neither each other
 * nor anything above. A unit is a folder (every file below it) or one file.
 */
const LAYERS: ReadonlyArray<{ units: readonly string[]; why: string }> = [
  { units: ["src/util"], why: "small pure helpers (numbers, randomness, output files) that know nothing of memory" },
  { units: ["src/durable"], why: "durable bytes (media, atomic file replacement, journals) that know nothing of what they hold" },
  { units: ["src/space"], why: "the address space and its backends, page geometry, images written through durable media" },
  { units: ["src/alloc", "src/trace"], why: "users of a space, independent of each other: allocators (frames implement space's FrameSource) and traces of its accesses" },
  { units: ["src/guest"], why: "guest programs run on a space and may record a trace of what they do" },
  { units: ["src/crash"], why: "crash tests drive allocators and spaces through durable media and check what survives" },
  { units: ["src/api"], why: "the public API, one module per area (memspace/space, /trace, ...): names what users may import from the layers below" },
  { units: ["src/index.ts", "src/cli"], why: "the library's entry and the command: each puts everything below together, neither uses the other" },
  { units: ["bench"], why: "benchmarks print with the CLI's tables and reports; the CLI starts them by path, never by import" },
];

interface LayerCheck {
  /** Each file (a path from the repository root) mapped to its text. */
  files: ReadonlyMap<string, string>;
  layers: typeof LAYERS;
}

/** The unit a file belongs to: the longest unit that is the file or a folder holding it. */
function unitOf(file: string, layers: typeof LAYERS): string | undefined {
  let found: string | undefined;
  for (const { units } of layers) {
    for (const unit of units) {
      if ((file === unit || file.startsWith(unit + "/")) && (found === undefined || unit.length > found.length)) found = unit;
    }
  }
  return found;
}

/** Every module the file names in an import or export-from, static, dynamic or type-only (TypeScript's own scanner, so comments and strings are no imports). */
function importsOf(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((reference) => reference.fileName);
}

/** The file a relative specifier names (".js" in source stands for the ".ts" file); null for a package or node: module. */
function resolve(from: string, specifier: string): string | null {
  if (!specifier.startsWith(".")) return null;
  return posix.normalize(posix.join(posix.dirname(from), specifier)).replace(/\.js$/, ".ts");
}

/**
 * Every import cycle among the files (one per back edge a depth-first walk meets), as the
 * files around it. Across units the layer order already rules cycles out; inside one they
 * mean two modules that cannot be read, tested or moved apart.
 */
function importCycles(files: ReadonlyMap<string, string>): string[] {
  const edges = new Map<string, string[]>();
  for (const [file, text] of files) {
    edges.set(file, importsOf(text).map((specifier) => resolve(file, specifier)).filter((target): target is string => target !== null && files.has(target)));
  }
  const done = new Set<string>();
  const path: string[] = [];
  const cycles: string[] = [];
  const visit = (file: string): void => {
    path.push(file);
    for (const target of edges.get(file)!) {
      const at = path.indexOf(target);
      if (at >= 0) cycles.push(`import cycle: ${[...path.slice(at), target].join(" -> ")}`);
      else if (!done.has(target)) visit(target);
    }
    path.pop();
    done.add(file);
  };
  for (const file of files.keys()) if (!done.has(file)) visit(file);
  return cycles;
}

/** Every import against the order, every file outside all layers and every import cycle, one line each. */
function layerViolations({ files, layers }: LayerCheck): string[] {
  const layerOfUnit = new Map<string, number>();
  layers.forEach(({ units }, index) => units.forEach((unit) => layerOfUnit.set(unit, index)));
  const violations: string[] = [];
  for (const [file, text] of files) {
    const unit = unitOf(file, layers);
    if (unit === undefined) {
      violations.push(`${file}: belongs to no layer`);
      continue;
    }
    for (const specifier of importsOf(text)) {
      const target = resolve(file, specifier);
      if (target === null) continue;
      const targetUnit = unitOf(target, layers);
      if (targetUnit === undefined) {
        violations.push(`${file} imports ${specifier} (${target}), which belongs to no layer`);
        continue;
      }
      if (targetUnit === unit) continue;
      const layer = layerOfUnit.get(unit)!;
      const targetLayer = layerOfUnit.get(targetUnit)!;
      if (targetLayer > layer) violations.push(`${file} imports ${specifier}: ${unit} (layer ${layer}) may not import ${targetUnit} (layer ${targetLayer}, above it)`);
      else if (targetLayer === layer) violations.push(`${file} imports ${specifier}: ${unit} and ${targetUnit} are peers (layer ${layer}) and may not import each other`);
    }
  }
  return [...violations, ...importCycles(files)];
}

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** The .ts sources under `folder` (declaration files left out), as paths from the root. */
function sourcesUnder(folder: string): string[] {
  return readdirSync(ROOT + folder, { withFileTypes: true }).flatMap((entry) => {
    const path = `${folder}/${entry.name}`;
    if (entry.isDirectory()) return sourcesUnder(path);
    return entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

describe("layers", () => {
  it("every import in src/ and bench/ follows the layer order", () => {
    const paths = [...sourcesUnder("src"), ...sourcesUnder("bench")];
    assert.ok(paths.includes("src/space/address-space.ts") && paths.includes("bench/alloc.ts"), `found the sources (${paths.length} files)`);
    const files = new Map(paths.map((path) => [path, readFileSync(ROOT + path, "utf8")]));
    assert.deepEqual(layerViolations({ files, layers: LAYERS }), []);
  });

  it("finds an upward import of every kind, a peer import and a file outside the layers", () => {
    const files = new Map([
      ["src/util/ok.ts", 'import { join } from "node:path";\n// import { AddressSpace } from "../space/address-space.js";\n'],
      ["src/space/static.ts", 'import { Heap } from "../alloc/heap/heap.js";\n'],
      ["src/space/type-only.ts", 'import type {\n  FrameAllocator,\n} from "../alloc/frames/frame-allocator.js";\n'],
      ["src/space/re-export.ts", 'export { runGuest } from "../guest/run-guest.js";\n'],
      ["src/space/dynamic.ts", 'export async function later() {\n  return (await import("../cli/main.js")).main;\n}\n'],
      ["src/trace/peer.ts", 'import { Random } from "../util/random.js";\nimport { Heap } from "../alloc/heap/heap.js";\n'],
      ["src/cli/down.ts", 'import { AddressSpace } from "../space/address-space.js";\nimport { x } from "./same-unit.js";\n'],
      ["src/elsewhere/stray.ts", ""],
    ]);
    assert.deepEqual(layerViolations({ files, layers: LAYERS }), [
      "src/space/static.ts imports ../alloc/heap/heap.js: src/space (layer 2) may not import src/alloc (layer 3, above it)",
      "src/space/type-only.ts imports ../alloc/frames/frame-allocator.js: src/space (layer 2) may not import src/alloc (layer 3, above it)",
      "src/space/re-export.ts imports ../guest/run-guest.js: src/space (layer 2) may not import src/guest (layer 4, above it)",
      "src/space/dynamic.ts imports ../cli/main.js: src/space (layer 2) may not import src/cli (layer 7, above it)",
      "src/trace/peer.ts imports ../alloc/heap/heap.js: src/trace and src/alloc are peers (layer 3) and may not import each other",
      "src/elsewhere/stray.ts: belongs to no layer",
    ]);
  });

  it("finds an import cycle inside one unit, type-only imports included", () => {
    const files = new Map([
      ["bench/alloc.ts", 'import { writeAllocChart } from "./alloc-chart.js";\n'],
      ["bench/alloc-chart.ts", 'import type { AllocBenchRecord } from "./alloc.js";\n'],
      ["bench/options.ts", 'import { renderTable } from "../src/cli/table.js";\n'],
      ["src/cli/table.ts", ""],
    ]);
    assert.deepEqual(layerViolations({ files, layers: LAYERS }), ["import cycle: bench/alloc.ts -> bench/alloc-chart.ts -> bench/alloc.ts"]);
  });

  it("places the library entry file and bench files in their layers", () => {
    const files = new Map([
      ["src/index.ts", 'export { BENCHMARKS } from "./cli/bench-list.js";\n'],
      ["bench/replay.ts", 'import { renderTable } from "../src/cli/table.js";\n'],
      ["src/cli/bench-command.ts", 'import { x } from "../../bench/options.js";\n'],
    ]);
    assert.deepEqual(layerViolations({ files, layers: LAYERS }), [
      "src/index.ts imports ./cli/bench-list.js: src/index.ts and src/cli are peers (layer 7) and may not import each other",
      "src/cli/bench-command.ts imports ../../bench/options.js: src/cli (layer 7) may not import bench (layer 8, above it)",
    ]);
  });
});

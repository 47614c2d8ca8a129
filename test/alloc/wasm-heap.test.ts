import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Heap } from "../../src/alloc/heap/heap.js";
import { withTempDir } from "../helpers.js";

// A real WebAssembly module (guests/wasm/heap-list.wat, compiled here with wabt's wat2wasm)
// allocates through a Heap that lives in its own memory, above its data and stack.
const WAT = fileURLToPath(new URL("../../../guests/wasm/heap-list.wat", import.meta.url));
const hasWat2wasm = spawnSync("wat2wasm", ["--version"]).status === 0;
// scripts/setup-guests.sh installs wabt, so CI has wat2wasm: there its absence is a failure.
const skip = !hasWat2wasm && process.env.CI !== "true" ? "wat2wasm is missing (apt-get install wabt, or bash scripts/setup-guests.sh)" : false;

/** The module's layout (the .wat's globals): its data segment (bytes 0..255) and its stack below the heap. */
const DATA_START = 0x400;
const DATA_BYTES = 256;
const NODE_HEADER_BYTES = 12;
/** The module's stack probe: frames of 64 bytes, from depth 12 (the first, just below the heap) down to 0. */
const FRAME_BYTES = 64;
const PROBE_DEPTH = 12;
const NODES = 3000;
const MAX_MEMORY_BYTES = 16 << 20;
const WASM_PAGE_BYTES = 65536;

interface ListModule {
  run(count: number): number;
  list_head(): number;
  free_all(): void;
  __heap_base: WebAssembly.Global;
}

function compileModule(): WebAssembly.Module {
  assert.ok(hasWat2wasm, "wat2wasm is missing: scripts/setup-guests.sh installs wabt");
  return withTempDir((folder) => {
    const wasm = join(folder, "heap-list.wasm");
    execFileSync("wat2wasm", [WAT, "-o", wasm]);
    return new WebAssembly.Module(readFileSync(wasm));
  });
}

describe("a Heap inside a WebAssembly module's memory", { skip }, () => {
  it("serves the module's malloc and free above its __heap_base, leaving its data and stack alone", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_MEMORY_BYTES / WASM_PAGE_BYTES });
    let heap: Heap | undefined;
    const calls = { malloc: 0, free: 0 };
    const instance = new WebAssembly.Instance(compileModule(), {
      env: {
        memory,
        malloc: (sizeBytes: number) => (calls.malloc++, heap!.malloc(sizeBytes)),
        free: (address: number) => (calls.free++, heap!.free(address)),
      },
    });
    const exports = instance.exports as unknown as ListModule;
    const start = exports.__heap_base.value as number;
    const below = new Uint8Array(memory.buffer, 0, start).slice();
    assert.deepEqual([...below.subarray(DATA_START, DATA_START + DATA_BYTES)], Array.from({ length: DATA_BYTES }, (_, i) => i), "the module's data segment");

    heap = new Heap(memory, { start, maxBytes: MAX_MEMORY_BYTES });
    assert.ok(memory.buffer.byteLength > WASM_PAGE_BYTES, "the heap grew the memory for its metadata");
    assert.equal(exports.run(NODES), 0, "the module's own checks of its list, data and stack");
    assert.ok(calls.malloc > NODES && calls.free > NODES / 2, `the module allocated through the heap (${calls.malloc} mallocs, ${calls.free} frees)`);
    heap.check();

    // Every byte below the heap is the module's: its data segment as loaded, zeros, and at
    // the top of its stack the frames its last probe left (depth d's frame at
    // start - 64 * (13 - d), byte k = d * 16 + k).
    const bytes = new Uint8Array(memory.buffer);
    const image = below.slice();
    for (let depth = 0; depth <= PROBE_DEPTH; depth++) {
      for (let k = 0; k < FRAME_BYTES; k++) image[start - FRAME_BYTES * (PROBE_DEPTH + 1 - depth) + k] = (depth * 16 + k) & 255;
    }
    assert.deepEqual(bytes.subarray(0, start), image, "the module's data and stack");

    // The blocks: every node of the list is a live block at or above the heap's start, and
    // holds what the module wrote.
    const live = new Map<number, number>();
    heap.walk((address, usableBytes) => live.set(address, usableBytes));
    const view = new DataView(memory.buffer);
    const ids: number[] = [];
    for (let node = exports.list_head(); node !== 0; node = view.getInt32(node, true)) {
      assert.ok(node >= start + 16384 && node < memory.buffer.byteLength, `node at ${node} is inside the heap's blocks`);
      const id = view.getInt32(node + 4, true);
      const sizeBytes = view.getInt32(node + 8, true);
      assert.equal(sizeBytes, NODE_HEADER_BYTES + ((id * 37) % 200));
      assert.ok((live.get(node) ?? 0) >= sizeBytes, `node ${id} at ${node} is a live block of at least ${sizeBytes} bytes`);
      for (let j = 0; j < sizeBytes - NODE_HEADER_BYTES; j++) assert.equal(bytes[node + NODE_HEADER_BYTES + j], (id * 7 + j) & 255);
      ids.push(id);
    }
    const expected = [...Array.from({ length: NODES }, (_, id) => id).filter((id) => id % 2 === 0), ...Array.from({ length: NODES / 2 }, (_, i) => NODES + i)];
    assert.deepEqual(ids.sort((a, b) => a - b), expected.sort((a, b) => a - b));
    assert.equal(heap.stats().liveBlocks, ids.length, "the heap's live blocks are the list's nodes");

    exports.free_all();
    heap.check();
    assert.equal(heap.stats().liveBlocks, 0);
    assert.deepEqual(new Uint8Array(memory.buffer, 0, start), image, "the module's data and stack, after the frees");
  });
});

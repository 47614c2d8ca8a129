import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Reg } from "../src/guest/assembler.js";
import { Hart } from "../src/guest/hart.js";
import { LinuxSyscalls } from "../src/guest/syscalls.js";
import { AddressSpace } from "../src/space/address-space.js";
import { fetchByParcels, type MemoryAccess } from "../src/space/backend.js";
import type { RecordKind } from "../src/trace/v2/layout.js";
import { V2TraceWriter, type V2WriterOptions } from "../src/trace/v2/writer.js";

/** A decoded trace op, for tests: value is the written value (0n for reads). */
export interface TestOp {
  write: boolean;
  width: 1 | 2 | 4 | 8;
  address: bigint;
  value: bigint;
}

/** A replay sink that records every op it is given. */
export class RecordingSink implements MemoryAccess {
  loadHigh = 0;
  readonly ops: TestOp[] = [];
  private read(lo: number, hi: number, width: 1 | 2 | 4 | 8): number {
    this.ops.push({ write: false, width, address: halvesToBig(lo, hi), value: 0n });
    this.loadHigh = 0;
    return 0;
  }
  private wrote(lo: number, hi: number, width: 1 | 2 | 4 | 8, valueLo: number, valueHi: number): void {
    this.ops.push({ write: true, width, address: halvesToBig(lo, hi), value: halvesToBig(valueLo, valueHi) });
  }
  load8(lo: number, hi: number): number {
    return this.read(lo, hi, 1);
  }
  load16(lo: number, hi: number): number {
    return this.read(lo, hi, 2);
  }
  load32(lo: number, hi: number): number {
    return this.read(lo, hi, 4);
  }
  load64(lo: number, hi: number): number {
    return this.read(lo, hi, 8);
  }
  store8(lo: number, hi: number, value: number): void {
    this.wrote(lo, hi, 1, value, 0);
  }
  store16(lo: number, hi: number, value: number): void {
    this.wrote(lo, hi, 2, value, 0);
  }
  store32(lo: number, hi: number, value: number): void {
    this.wrote(lo, hi, 4, value, 0);
  }
  store64(lo: number, hi: number, valueLo: number, valueHi: number): void {
    this.wrote(lo, hi, 8, valueLo, valueHi);
  }
  fetchInstruction(lo: number, hi: number): number {
    return fetchByParcels(this, lo, hi);
  }
  countAccesses(): void {}
}

export function halvesToBig(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

export function lowOf(value: bigint): number {
  return Number(value & 0xffffffffn);
}

export function highOf(value: bigint): number {
  return Number((value >> 32n) & 0xffffffffn);
}

/** Runs `body` with a fresh temporary folder, removed afterwards. */
export function withTempDir<T>(body: (folder: string) => T): T {
  const folder = mkdtempSync(join(tmpdir(), "memspace-test-"));
  try {
    return body(folder);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** A LinuxSyscalls on a fresh space, called directly: returns a0 as a signed value. */
export function syscallHarness(options: { stdin?: Uint8Array; backend?: "noop" | "paged"; strict?: boolean; write?: (bytes: Uint8Array) => void } = {}) {
  const space = new AddressSpace({ backend: options.backend ?? "paged", strict: options.strict });
  const written: Uint8Array[] = [];
  const write = options.write ?? ((bytes: Uint8Array) => written.push(bytes));
  const syscalls = new LinuxSyscalls(space, 0x100000n, { stdin: options.stdin ?? new Uint8Array(0), write: (_fd, bytes) => write(bytes) });
  const hart = new Hart(space.access, syscalls);
  const call = (number: number, ...args: bigint[]): bigint => {
    args.forEach((value, index) => hart.setRegister(Reg.a0 + index, value));
    hart.setRegister(Reg.a7, BigInt(number));
    syscalls.handle(hart);
    return BigInt.asIntN(64, hart.register(Reg.a0));
  };
  return { space, written, call };
}

/**
 * Writes a v2 trace of `count` records in small chunks (20 KB as seed), so that part workers
 * get several: record `index` is `record(index, draw)` as [kind, size in bytes, address
 * below 2^32], `draw` a fresh 32-bit pseudo-random number (a seeded LCG), also its value.
 */
export function writeDrawnV2(path: string, count: number, options: Pick<V2WriterOptions, "values" | "deflateLevel">, record: (index: number, draw: number) => [RecordKind, number, number]): void {
  const writer = new V2TraceWriter(path, { ...options, chunkSeedBytes: 20_480 });
  let draw = 12345;
  for (let index = 0; index < count; index++) {
    draw = (Math.imul(draw, 1103515245) + 12345) >>> 0;
    const [kind, sizeBytes, address] = record(index, draw);
    writer.append(kind, sizeBytes, address, 0, draw, 0, 0, 0);
  }
  writer.close();
}

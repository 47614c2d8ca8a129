import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fetchByParcels, type MemoryAccess } from "../src/space/backend.js";

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

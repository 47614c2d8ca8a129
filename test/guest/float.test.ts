import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { iType, rType, sType } from "../../src/guest/assembler.js";
import type { Hart } from "../../src/guest/hart.js";
import { TeeAccess } from "../../src/space/tee-access.js";
import { TraceStats } from "../../src/trace/stats.js";
import { execute } from "./hart-harness.js";

const DATA = 0x3000n;
const BOXED = 0xffffffff00000000n;

function fpRegister(hart: Hart, index: number): bigint {
  return (BigInt(hart.fregs[2 * index + 1] >>> 0) << 32n) | BigInt(hart.fregs[2 * index] >>> 0);
}

function setFpRegister(hart: Hart, index: number, bits: bigint): void {
  hart.fregs[2 * index] = Number(bits & 0xffffffffn) | 0;
  hart.fregs[2 * index + 1] = Number(bits >> 32n) | 0;
}

const flw = (fd: number, rs1: number, offset: number) => iType(offset, rs1, 2, fd, 0x07);
const fld = (fd: number, rs1: number, offset: number) => iType(offset, rs1, 3, fd, 0x07);
const fsw = (fs: number, rs1: number, offset: number) => sType(offset, fs, rs1, 2, 0x27);
const fsd = (fs: number, rs1: number, offset: number) => sType(offset, fs, rs1, 3, 0x27);
/** An OP-FP instruction: funct5, format (0 single, 1 double), rs2, rs1, funct3 (rm), rd. */
const opFp = (funct5: number, format: number, rs2: number, rs1: number, funct3: number, rd: number) =>
  rType((funct5 << 2) | format, rs2, rs1, funct3, rd, 0x53);
const csr = (funct3: number, number: number, rs1: number, rd: number) => iType(number, rs1, funct3, rd, 0x73);
const ADDI = (rd: number, rs1: number, imm: number) => iType(imm, rs1, 0, rd, 0x13);
const SD = (rs2: number, rs1: number, offset: number) => sType(offset, rs2, rs1, 3);

describe("F/D registers, loads, stores and moves", () => {
  it("fld/fsd and c.fsd/c.fld/c.fsdsp/c.fldsp move 8 bytes bit-exactly (a signaling NaN payload survives), traced as width-8 ops", () => {
    const stats = new TraceStats();
    const snan = 0x7ff0000000000001n;
    const hart = execute(
      [
        SD(11, 10, 0), // [a0] = a1
        fld(1, 10, 0), // f1 = [a0]
        fsd(1, 10, 16), // [a0 + 16] = f1
        { c: 0xa504 }, // c.fsd fs1, 8(a0)
        { c: 0x2500 }, // c.fld fs0, 8(a0)
        { c: 0xa822 }, // c.fsdsp fs0, 16(sp)
        { c: 0x2042 }, // c.fldsp ft0, 16(sp)
      ],
      { 10: DATA, 11: snan, 2: DATA + 0x100n },
      3,
      (access) => new TeeAccess(access, stats),
    );
    assert.equal(fpRegister(hart, 1), snan);
    setFpRegister(hart, 9, 0xfff8000000000123n);
    hart.run(4);
    assert.equal(fpRegister(hart, 8), 0xfff8000000000123n, "c.fsd then c.fld");
    assert.equal(fpRegister(hart, 0), 0xfff8000000000123n, "c.fsdsp then c.fldsp into f0");
    const report = stats.report();
    assert.equal(report.readsByWidth[8], 3);
    assert.equal(report.writesByWidth[8], 4);
  });

  it("flw NaN-boxes, fsw stores the low word, fmv.x.w sign-extends the raw low word, fmv.w.x boxes, fmv.x.d/fmv.d.x copy", () => {
    const hart = execute(
      [
        SD(11, 10, 0),
        flw(2, 10, 4), // f2 = boxed 0x80000001
        fsw(2, 10, 8),
        iType(8, 10, 6, 12, 0x03), // lwu a2, 8(a0)
        opFp(0x1c, 0, 0, 2, 0, 13), // fmv.x.w a3, f2
        opFp(0x1e, 0, 0, 11, 0, 3), // fmv.w.x f3, a1
        opFp(0x1e, 1, 0, 11, 0, 4), // fmv.d.x f4, a1
        opFp(0x1c, 1, 0, 4, 0, 14), // fmv.x.d a4, f4
        opFp(0x1c, 1, 0, 4, 0, 0), // fmv.x.d x0, f4: x0 stays zero
      ],
      { 10: DATA, 11: 0x80000001_0000fffen },
    );
    assert.equal(fpRegister(hart, 2), BOXED | 0x80000001n);
    assert.equal(hart.register(12), 0x80000001n);
    assert.equal(hart.register(13), 0xffffffff80000001n);
    assert.equal(fpRegister(hart, 3), BOXED | 0xfffen);
    assert.equal(fpRegister(hart, 4), 0x80000001_0000fffen);
    assert.equal(hart.register(14), 0x80000001_0000fffen);
    assert.equal(hart.register(0), 0n);
  });

  it("fsgnj/fsgnjn/fsgnjx work on bits; an unboxed single operand reads as the canonical NaN", () => {
    const hart = execute(
      [
        opFp(0x04, 1, 2, 1, 0, 3), // fsgnj.d f3, f1, f2
        opFp(0x04, 1, 2, 1, 1, 4), // fsgnjn.d f4, f1, f2
        opFp(0x04, 1, 2, 2, 2, 5), // fsgnjx.d f5, f2, f2: sign cleared
        opFp(0x04, 0, 6, 6, 1, 7), // fsgnjn.s f7, f6, f6 (f6 unboxed): the canonical NaN, negated
        opFp(0x04, 0, 8, 8, 0, 9), // fsgnj.s f9, f8, f8 (f8 boxed)
      ],
      {},
      0,
    );
    setFpRegister(hart, 1, 0x7ff0000000000001n);
    setFpRegister(hart, 2, 0x8000000000000002n);
    setFpRegister(hart, 6, 0x00000000_3f800000n);
    setFpRegister(hart, 8, BOXED | 0xbf800000n);
    hart.run(5);
    assert.equal(fpRegister(hart, 3), 0xfff0000000000001n);
    assert.equal(fpRegister(hart, 4), 0x7ff0000000000001n);
    assert.equal(fpRegister(hart, 5), 0x0000000000000002n);
    assert.equal(fpRegister(hart, 7), BOXED | 0xffc00000n);
    assert.equal(fpRegister(hart, 9), BOXED | 0xbf800000n);
  });
});

describe("fflags, frm and fcsr", () => {
  it("are readable and writable by csrrw/csrrs/csrrc and the immediate forms, masked to their widths", () => {
    const hart = execute(
      [
        ADDI(5, 0, 0xff),
        csr(1, 0x003, 5, 6), // csrrw t1, fcsr, t0: t1 = 0, fcsr = 0xff
        csr(2, 0x001, 0, 7), // csrr t2, fflags = 0x1f
        csr(2, 0x002, 0, 28), // csrr t3, frm = 7
        csr(7, 0x001, 3, 29), // csrrci t4, fflags, 3: t4 = 0x1f, fflags = 0x1c
        csr(5, 0x002, 1, 30), // csrrwi t5, frm, 1: t5 = 7
        csr(6, 0x001, 1, 0), // csrrsi x0, fflags, 1
        csr(2, 0x003, 0, 31), // csrr t6, fcsr = 1 << 5 | 0x1d
      ],
      {},
    );
    assert.deepEqual(
      [6, 7, 28, 29, 30, 31].map((index) => hart.register(index)),
      [0n, 0x1fn, 7n, 0x1fn, 7n, 0x3dn],
    );
    assert.equal(hart.frm, 1);
    assert.equal(hart.fflags, 0x1d);
  });

  it("reserved rounding modes are illegal: static rm 5 and 6, and dynamic rm while frm holds 5-7", () => {
    const faddD = (rm: number) => opFp(0x00, 1, 2, 1, rm, 3);
    assert.throws(() => execute([faddD(5)], {}), /illegal or unimplemented instruction 0x[0-9a-f]+ \(fadd\.d [a-z0-9,]+,0x5\) \(pc 0x0000000000010000\)/);
    assert.throws(() => execute([faddD(6)], {}), /illegal/);
    assert.throws(() => execute([csr(5, 0x002, 5, 0), faddD(7)], {}), /illegal or unimplemented instruction .*\(pc 0x0000000000010004\)/);
    const hart = execute([csr(5, 0x002, 1, 0), faddD(7), csr(2, 0x001, 0, 5)], {}, 0);
    setFpRegister(hart, 1, 0x3ff0000000000000n); // 1
    setFpRegister(hart, 2, 0x3ca0000000000000n); // 2^-53: a tie, rounded toward zero by frm
    hart.run(3);
    assert.equal(fpRegister(hart, 3), 0x3ff0000000000000n);
    assert.equal(hart.register(5), 1n, "fflags: inexact");
  });

  it("any other CSR but the counters is still an illegal instruction", () => {
    assert.throws(() => execute([csr(2, 0x004, 0, 5)], {}), /illegal instruction: CSR 0x4/);
    assert.throws(() => execute([csr(1, 0xc00, 5, 5)], {}), /write to read-only CSR 0xc00/);
    assert.equal(execute([csr(2, 0xc02, 0, 5)], {}).register(5), 0n);
  });
});

import { pageNumberOfHalves } from "../space/address.js";
import type { MemoryAccess } from "../space/backend.js";
import { decode, type Decoded } from "./decoder.js";
import { divide64, multiplyHighSigned, multiplyHighUnsigned, multiplyLow, wide } from "./int64.js";
import { Amo, Op, Packed } from "./ops.js";

/** An illegal instruction, a failed system call or a memory fault, with the guest pc. */
export class GuestError extends Error {
  constructor(
    message: string,
    readonly pc: bigint,
  ) {
    super(`${message} (pc 0x${pc.toString(16).padStart(16, "0")})`);
    this.name = "GuestError";
  }
}

/** What an `ecall` does: returns true when the guest has exited. */
export interface SyscallHandler {
  handle(hart: Hart): boolean;
}

/** Decoded instructions per 4 KiB code page: [raw bits, packed word, immediate] per half-word. */
const DECODE_WORDS = 3;
const DECODE_SLOTS_PER_PAGE = 2048;
/**
 * Raw bits no fetch can produce (above 16 bits yet not ending in 0b11), marking a slot not
 * yet decoded: one comparison then checks both "decoded" and "unchanged since".
 */
const NEVER_FETCHED = 0x10000;
/**
 * Instructions per call of the interpreter loop. Re-entering it every million instructions
 * lets TurboFan compile it as a whole function rather than only on-stack-replace the one
 * long-running loop: fib-imac went from a median of about 37 to 44 MIPS here (noisy: 35-78).
 */
const RUN_SLICE = 1 << 20;
const CSR_CYCLE = 0xc00;
const CSR_TIME = 0xc01;
const CSR_INSTRET = 0xc02;

/** High half of (aLo, aHi) + (bLo, bHi): the carry comes from the unsigned low halves. */
function addHigh(aLo: number, aHi: number, bLo: number, bHi: number): number {
  return (aHi + bHi + ((aLo >>> 0) + (bLo >>> 0) > 0xffffffff ? 1 : 0)) | 0;
}

function lessSigned(aLo: number, aHi: number, bLo: number, bHi: number): boolean {
  return aHi < bHi || (aHi === bHi && aLo >>> 0 < bLo >>> 0);
}

function lessUnsigned(aLo: number, aHi: number, bLo: number, bHi: number): boolean {
  return aHi >>> 0 < bHi >>> 0 || (aHi === bHi && aLo >>> 0 < bLo >>> 0);
}

/**
 * One RV64IMAC hart. Registers are two Int32Arrays of halves (x0 reads as zero; writes to
 * it go to a discard register). Every instruction is fetched through memory as 16-bit
 * parcels (one load for a compressed instruction, two for a 32-bit one), as the reference
 * traces were recorded; decoding is cached per code page and checked against the fetched
 * bits, so self-modifying code stays correct.
 */
export class Hart {
  readonly regLo = new Int32Array(33);
  readonly regHi = new Int32Array(33);
  pcLo = 0;
  pcHi = 0;
  instructions = 0;
  exitCode: number | null = null;
  private reservationLo = 0;
  private reservationHi = 0;
  private reservationValid = false;
  private readonly csrs = new Map<number, bigint>();
  private readonly decodedPages = new Map<number, Int32Array>();
  private readonly scratch: Decoded = { packed: 0, imm: 0 };

  constructor(
    readonly memory: MemoryAccess,
    private readonly syscalls: SyscallHandler,
  ) {}

  get pc(): bigint {
    return (BigInt(this.pcHi >>> 0) << 32n) | BigInt(this.pcLo >>> 0);
  }

  set pc(value: bigint) {
    this.pcLo = Number(value & 0xffffffffn) | 0;
    this.pcHi = Number((value >> 32n) & 0xffffffffn) | 0;
  }

  /** Register `index` as an unsigned 64-bit bigint. */
  register(index: number): bigint {
    return (BigInt(this.regHi[index] >>> 0) << 32n) | BigInt(this.regLo[index] >>> 0);
  }

  setRegister(index: number, value: bigint): void {
    if (index === 0) return;
    const bits = BigInt.asUintN(64, value);
    this.regLo[index] = Number(bits & 0xffffffffn) | 0;
    this.regHi[index] = Number(bits >> 32n) | 0;
  }

  /** Runs until the guest exits (returns its exit code) or `maxInstructions` have run (null). */
  run(maxInstructions = Number.POSITIVE_INFINITY): number | null {
    try {
      let left = maxInstructions;
      while (left > 0 && this.exitCode === null) {
        const slice = Math.min(left, RUN_SLICE);
        const done = this.execute(slice);
        left -= done;
        if (done < slice) break;
      }
    } catch (error) {
      if (error instanceof GuestError) throw error;
      throw new GuestError(error instanceof Error ? error.message : String(error), this.pc);
    }
    return this.exitCode;
  }

  private decodedPage(pcLo: number, pcHi: number): Int32Array {
    const pageNumber = pageNumberOfHalves(pcLo, pcHi);
    let page = this.decodedPages.get(pageNumber);
    if (page === undefined) {
      page = new Int32Array(DECODE_SLOTS_PER_PAGE * DECODE_WORDS);
      for (let slot = 0; slot < page.length; slot += DECODE_WORDS) page[slot] = NEVER_FETCHED;
      this.decodedPages.set(pageNumber, page);
    }
    return page;
  }

  private illegal(raw: number, lengthBytes: number): never {
    const bits = (raw >>> 0).toString(16).padStart(lengthBytes * 2, "0");
    throw new GuestError(`illegal or unimplemented instruction 0x${bits}`, this.pc);
  }

  /** Runs at most `budget` (< 2^30) instructions; returns how many ran. */
  private execute(budget: number): number {
    const lo = this.regLo;
    const hi = this.regHi;
    const memory = this.memory;
    const scratch = this.scratch;
    let pcLo = this.pcLo;
    let pcHi = this.pcHi;
    let codePageLo = -1;
    let codePageHi = 0;
    let decoded: Int32Array = new Int32Array(0);
    // Counted locally (a field store per instruction costs), flushed where others look.
    const start = this.instructions;
    let executed = 0;
    try {
      while (executed < budget) {
        // Fetch: 16-bit parcels through memory.
        const parcel = memory.load16(pcLo, pcHi);
        let raw = parcel;
        if ((parcel & 3) === 3) {
          const nextLo = (pcLo + 2) | 0;
          raw = parcel | (memory.load16(nextLo, nextLo === 0 ? (pcHi + 1) | 0 : pcHi) << 16);
        }
        if (pcLo >>> 12 !== codePageLo || pcHi !== codePageHi) {
          decoded = this.decodedPage(pcLo, pcHi);
          codePageLo = pcLo >>> 12;
          codePageHi = pcHi;
        }
        const slot = ((pcLo & 0xfff) >>> 1) * DECODE_WORDS;
        if (decoded[slot] !== raw) {
          decode(raw, scratch);
          decoded[slot] = raw;
          decoded[slot + 1] = scratch.packed;
          decoded[slot + 2] = scratch.imm;
        }
        const packed = decoded[slot + 1];
        const imm = decoded[slot + 2];
        const immHi = imm >> 31;
        const rd = (packed >>> Packed.RdShift) & 63;
        const rs1 = (packed >>> Packed.Rs1Shift) & 31;
        const rs2 = (packed >>> Packed.Rs2Shift) & 31;
        const lengthBytes = packed >>> Packed.LengthShift;
        let nextLo = (pcLo + lengthBytes) | 0;
        let nextHi = (pcLo >>> 0) + lengthBytes > 0xffffffff ? (pcHi + 1) | 0 : pcHi;
        executed++;
        switch (packed & 0xff) {
          case Op.Lui:
            lo[rd] = imm;
            hi[rd] = immHi;
            break;
          case Op.Auipc:
            lo[rd] = (pcLo + imm) | 0;
            hi[rd] = addHigh(pcLo, pcHi, imm, immHi);
            break;
          case Op.Jal:
            lo[rd] = nextLo;
            hi[rd] = nextHi;
            nextHi = addHigh(pcLo, pcHi, imm, immHi);
            nextLo = (pcLo + imm) | 0;
            break;
          case Op.Jalr: {
            const targetLo = (lo[rs1] + imm) & ~1;
            const targetHi = addHigh(lo[rs1], hi[rs1], imm, immHi);
            lo[rd] = nextLo;
            hi[rd] = nextHi;
            nextLo = targetLo;
            nextHi = targetHi;
            break;
          }
          case Op.Beq:
            if (lo[rs1] === lo[rs2] && hi[rs1] === hi[rs2]) {
              nextHi = addHigh(pcLo, pcHi, imm, immHi);
              nextLo = (pcLo + imm) | 0;
            }
            break;
          case Op.Bne:
            if (lo[rs1] !== lo[rs2] || hi[rs1] !== hi[rs2]) {
              nextHi = addHigh(pcLo, pcHi, imm, immHi);
              nextLo = (pcLo + imm) | 0;
            }
            break;
          case Op.Blt:
            if (lessSigned(lo[rs1], hi[rs1], lo[rs2], hi[rs2])) {
              nextHi = addHigh(pcLo, pcHi, imm, immHi);
              nextLo = (pcLo + imm) | 0;
            }
            break;
          case Op.Bge:
            if (!lessSigned(lo[rs1], hi[rs1], lo[rs2], hi[rs2])) {
              nextHi = addHigh(pcLo, pcHi, imm, immHi);
              nextLo = (pcLo + imm) | 0;
            }
            break;
          case Op.Bltu:
            if (lessUnsigned(lo[rs1], hi[rs1], lo[rs2], hi[rs2])) {
              nextHi = addHigh(pcLo, pcHi, imm, immHi);
              nextLo = (pcLo + imm) | 0;
            }
            break;
          case Op.Bgeu:
            if (!lessUnsigned(lo[rs1], hi[rs1], lo[rs2], hi[rs2])) {
              nextHi = addHigh(pcLo, pcHi, imm, immHi);
              nextLo = (pcLo + imm) | 0;
            }
            break;
          case Op.Lb: {
            const value = memory.load8((lo[rs1] + imm) | 0, addHigh(lo[rs1], hi[rs1], imm, immHi));
            lo[rd] = (value << 24) >> 24;
            hi[rd] = lo[rd] >> 31;
            break;
          }
          case Op.Lh: {
            const value = memory.load16((lo[rs1] + imm) | 0, addHigh(lo[rs1], hi[rs1], imm, immHi));
            lo[rd] = (value << 16) >> 16;
            hi[rd] = lo[rd] >> 31;
            break;
          }
          case Op.Lw: {
            const value = memory.load32((lo[rs1] + imm) | 0, addHigh(lo[rs1], hi[rs1], imm, immHi)) | 0;
            lo[rd] = value;
            hi[rd] = value >> 31;
            break;
          }
          case Op.Ld: {
            const value = memory.load64((lo[rs1] + imm) | 0, addHigh(lo[rs1], hi[rs1], imm, immHi));
            lo[rd] = value;
            hi[rd] = memory.loadHigh;
            break;
          }
          case Op.Lbu:
            lo[rd] = memory.load8((lo[rs1] + imm) | 0, addHigh(lo[rs1], hi[rs1], imm, immHi));
            hi[rd] = 0;
            break;
          case Op.Lhu:
            lo[rd] = memory.load16((lo[rs1] + imm) | 0, addHigh(lo[rs1], hi[rs1], imm, immHi));
            hi[rd] = 0;
            break;
          case Op.Lwu:
            lo[rd] = memory.load32((lo[rs1] + imm) | 0, addHigh(lo[rs1], hi[rs1], imm, immHi));
            hi[rd] = 0;
            break;
          case Op.Sb:
            memory.store8((lo[rs1] + imm) | 0, addHigh(lo[rs1], hi[rs1], imm, immHi), lo[rs2] & 0xff);
            break;
          case Op.Sh:
            memory.store16((lo[rs1] + imm) | 0, addHigh(lo[rs1], hi[rs1], imm, immHi), lo[rs2] & 0xffff);
            break;
          case Op.Sw:
            memory.store32((lo[rs1] + imm) | 0, addHigh(lo[rs1], hi[rs1], imm, immHi), lo[rs2]);
            break;
          case Op.Sd:
            memory.store64((lo[rs1] + imm) | 0, addHigh(lo[rs1], hi[rs1], imm, immHi), lo[rs2], hi[rs2]);
            break;
          case Op.Addi:
            hi[rd] = addHigh(lo[rs1], hi[rs1], imm, immHi);
            lo[rd] = (lo[rs1] + imm) | 0;
            break;
          case Op.Slti:
            lo[rd] = lessSigned(lo[rs1], hi[rs1], imm, immHi) ? 1 : 0;
            hi[rd] = 0;
            break;
          case Op.Sltiu:
            lo[rd] = lessUnsigned(lo[rs1], hi[rs1], imm, immHi) ? 1 : 0;
            hi[rd] = 0;
            break;
          case Op.Xori:
            hi[rd] = hi[rs1] ^ immHi;
            lo[rd] = lo[rs1] ^ imm;
            break;
          case Op.Ori:
            hi[rd] = hi[rs1] | immHi;
            lo[rd] = lo[rs1] | imm;
            break;
          case Op.Andi:
            hi[rd] = hi[rs1] & immHi;
            lo[rd] = lo[rs1] & imm;
            break;
          case Op.Slli:
            this.shiftLeft(rd, lo[rs1], hi[rs1], imm);
            break;
          case Op.Srli:
            this.shiftRight(rd, lo[rs1], hi[rs1], imm, false);
            break;
          case Op.Srai:
            this.shiftRight(rd, lo[rs1], hi[rs1], imm, true);
            break;
          case Op.Addiw:
            lo[rd] = (lo[rs1] + imm) | 0;
            hi[rd] = lo[rd] >> 31;
            break;
          case Op.Slliw:
            lo[rd] = lo[rs1] << imm;
            hi[rd] = lo[rd] >> 31;
            break;
          case Op.Srliw:
            lo[rd] = lo[rs1] >>> imm;
            hi[rd] = lo[rd] >> 31;
            break;
          case Op.Sraiw:
            lo[rd] = lo[rs1] >> imm;
            hi[rd] = lo[rd] >> 31;
            break;
          case Op.Add: {
            const resultHi = addHigh(lo[rs1], hi[rs1], lo[rs2], hi[rs2]);
            lo[rd] = (lo[rs1] + lo[rs2]) | 0;
            hi[rd] = resultHi;
            break;
          }
          case Op.Sub: {
            const borrow = lo[rs1] >>> 0 < lo[rs2] >>> 0 ? 1 : 0;
            const resultHi = (hi[rs1] - hi[rs2] - borrow) | 0;
            lo[rd] = (lo[rs1] - lo[rs2]) | 0;
            hi[rd] = resultHi;
            break;
          }
          case Op.Sll:
            this.shiftLeft(rd, lo[rs1], hi[rs1], lo[rs2] & 63);
            break;
          case Op.Slt:
            lo[rd] = lessSigned(lo[rs1], hi[rs1], lo[rs2], hi[rs2]) ? 1 : 0;
            hi[rd] = 0;
            break;
          case Op.Sltu:
            lo[rd] = lessUnsigned(lo[rs1], hi[rs1], lo[rs2], hi[rs2]) ? 1 : 0;
            hi[rd] = 0;
            break;
          case Op.Xor:
            hi[rd] = hi[rs1] ^ hi[rs2];
            lo[rd] = lo[rs1] ^ lo[rs2];
            break;
          case Op.Srl:
            this.shiftRight(rd, lo[rs1], hi[rs1], lo[rs2] & 63, false);
            break;
          case Op.Sra:
            this.shiftRight(rd, lo[rs1], hi[rs1], lo[rs2] & 63, true);
            break;
          case Op.Or:
            hi[rd] = hi[rs1] | hi[rs2];
            lo[rd] = lo[rs1] | lo[rs2];
            break;
          case Op.And:
            hi[rd] = hi[rs1] & hi[rs2];
            lo[rd] = lo[rs1] & lo[rs2];
            break;
          case Op.Addw:
            lo[rd] = (lo[rs1] + lo[rs2]) | 0;
            hi[rd] = lo[rd] >> 31;
            break;
          case Op.Subw:
            lo[rd] = (lo[rs1] - lo[rs2]) | 0;
            hi[rd] = lo[rd] >> 31;
            break;
          case Op.Sllw:
            lo[rd] = lo[rs1] << (lo[rs2] & 31);
            hi[rd] = lo[rd] >> 31;
            break;
          case Op.Srlw:
            lo[rd] = lo[rs1] >>> (lo[rs2] & 31);
            hi[rd] = lo[rd] >> 31;
            break;
          case Op.Sraw:
            lo[rd] = lo[rs1] >> (lo[rs2] & 31);
            hi[rd] = lo[rd] >> 31;
            break;
          case Op.Mul:
            multiplyLow(lo[rs1], hi[rs1], lo[rs2], hi[rs2]);
            lo[rd] = wide.lo;
            hi[rd] = wide.hi;
            break;
          case Op.Mulh:
            multiplyHighSigned(lo[rs1], hi[rs1], lo[rs2], hi[rs2], true);
            lo[rd] = wide.lo;
            hi[rd] = wide.hi;
            break;
          case Op.Mulhsu:
            multiplyHighSigned(lo[rs1], hi[rs1], lo[rs2], hi[rs2], false);
            lo[rd] = wide.lo;
            hi[rd] = wide.hi;
            break;
          case Op.Mulhu:
            multiplyHighUnsigned(lo[rs1], hi[rs1], lo[rs2], hi[rs2]);
            lo[rd] = wide.lo;
            hi[rd] = wide.hi;
            break;
          case Op.Div:
          case Op.Divu:
          case Op.Rem:
          case Op.Remu: {
            const op = packed & 0xff;
            divide64(lo[rs1], hi[rs1], lo[rs2], hi[rs2], op === Op.Div || op === Op.Rem, op === Op.Rem || op === Op.Remu);
            lo[rd] = wide.lo;
            hi[rd] = wide.hi;
            break;
          }
          case Op.Mulw:
            lo[rd] = Math.imul(lo[rs1], lo[rs2]);
            hi[rd] = lo[rd] >> 31;
            break;
          case Op.Divw:
          case Op.Divuw:
          case Op.Remw:
          case Op.Remuw: {
            this.divideWord(packed & 0xff, rd, lo[rs1], lo[rs2]);
            break;
          }
          case Op.Fence:
            break;
          case Op.Ecall:
            this.pcLo = pcLo;
            this.pcHi = pcHi;
            this.instructions = start + executed;
            if (this.syscalls.handle(this)) {
              pcLo = nextLo;
              pcHi = nextHi;
              return executed;
            }
            break;
          case Op.Ebreak:
            this.pcLo = pcLo;
            this.pcHi = pcHi;
            throw new GuestError("ebreak", this.pc);
          case Op.Csrrw:
          case Op.Csrrs:
          case Op.Csrrc:
          case Op.Csrrwi:
          case Op.Csrrsi:
          case Op.Csrrci:
            this.pcLo = pcLo;
            this.pcHi = pcHi;
            this.csr(packed & 0xff, rd, rs1, imm);
            break;
          case Op.LrW:
          case Op.LrD: {
            const addressLo = lo[rs1];
            const addressHi = hi[rs1];
            if ((packed & 0xff) === Op.LrW) {
              lo[rd] = memory.load32(addressLo, addressHi) | 0;
              hi[rd] = lo[rd] >> 31;
            } else {
              lo[rd] = memory.load64(addressLo, addressHi);
              hi[rd] = memory.loadHigh;
            }
            this.reservationLo = addressLo;
            this.reservationHi = addressHi;
            this.reservationValid = true;
            break;
          }
          case Op.ScW:
          case Op.ScD: {
            const addressLo = lo[rs1];
            const addressHi = hi[rs1];
            const success = this.reservationValid && this.reservationLo === addressLo && this.reservationHi === addressHi;
            this.reservationValid = false;
            if (success) {
              if ((packed & 0xff) === Op.ScW) memory.store32(addressLo, addressHi, lo[rs2]);
              else memory.store64(addressLo, addressHi, lo[rs2], hi[rs2]);
            }
            lo[rd] = success ? 0 : 1;
            hi[rd] = 0;
            break;
          }
          case Op.AmoW:
            this.atomicWord(rd, rs1, rs2, imm);
            break;
          case Op.AmoD:
            this.atomicDouble(rd, rs1, rs2, imm);
            break;
          default:
            this.pcLo = pcLo;
            this.pcHi = pcHi;
            this.illegal(raw, lengthBytes);
        }
        pcLo = nextLo;
        pcHi = nextHi;
      }
      return executed;
    } finally {
      this.instructions = start + executed;
      this.pcLo = pcLo;
      this.pcHi = pcHi;
    }
  }

  private shiftLeft(rd: number, valueLo: number, valueHi: number, amount: number): void {
    if (amount === 0) {
      this.regLo[rd] = valueLo;
      this.regHi[rd] = valueHi;
    } else if (amount < 32) {
      this.regHi[rd] = (valueHi << amount) | (valueLo >>> (32 - amount));
      this.regLo[rd] = valueLo << amount;
    } else {
      this.regHi[rd] = valueLo << (amount - 32);
      this.regLo[rd] = 0;
    }
  }

  private shiftRight(rd: number, valueLo: number, valueHi: number, amount: number, arithmetic: boolean): void {
    if (amount === 0) {
      this.regLo[rd] = valueLo;
      this.regHi[rd] = valueHi;
    } else if (amount < 32) {
      this.regLo[rd] = (valueLo >>> amount) | (valueHi << (32 - amount));
      this.regHi[rd] = arithmetic ? valueHi >> amount : valueHi >>> amount;
    } else {
      this.regLo[rd] = arithmetic ? valueHi >> (amount - 32) : valueHi >>> (amount - 32);
      this.regHi[rd] = arithmetic ? valueHi >> 31 : 0;
    }
  }

  private divideWord(op: number, rd: number, a: number, b: number): void {
    let result: number;
    if (op === Op.Divw || op === Op.Remw) {
      if (b === 0) result = op === Op.Divw ? -1 : a;
      else if (a === (0x80000000 | 0) && b === -1) result = op === Op.Divw ? a : 0;
      else result = op === Op.Divw ? Math.trunc(a / b) | 0 : a % b | 0;
    } else {
      const ua = a >>> 0;
      const ub = b >>> 0;
      if (ub === 0) result = op === Op.Divuw ? -1 : a;
      else result = op === Op.Divuw ? Math.floor(ua / ub) | 0 : ua % ub | 0;
    }
    this.regLo[rd] = result;
    this.regHi[rd] = result >> 31;
  }

  private csr(op: number, rd: number, rs1: number, csr: number): void {
    const old = this.readCsr(csr);
    const immediate = op === Op.Csrrwi || op === Op.Csrrsi || op === Op.Csrrci;
    const source = immediate ? BigInt(rs1) : this.register(rs1);
    const writes = op === Op.Csrrw || op === Op.Csrrwi || rs1 !== 0;
    if (writes) {
      if (csr >= CSR_CYCLE && csr <= CSR_INSTRET) throw new GuestError(`write to read-only CSR 0x${csr.toString(16)}`, this.pc);
      const kind = op === Op.Csrrw || op === Op.Csrrwi ? "write" : op === Op.Csrrs || op === Op.Csrrsi ? "set" : "clear";
      this.csrs.set(csr, kind === "write" ? source : kind === "set" ? old | source : old & ~source);
    }
    this.setRegister(rd === Packed.DiscardRegister ? 0 : rd, old);
  }

  private readCsr(csr: number): bigint {
    // Cycle and time count instructions: deterministic, like the rest of a run.
    if (csr === CSR_CYCLE || csr === CSR_TIME || csr === CSR_INSTRET) return BigInt(this.instructions);
    return this.csrs.get(csr) ?? 0n;
  }

  private atomicWord(rd: number, rs1: number, rs2: number, kind: number): void {
    const addressLo = this.regLo[rs1];
    const addressHi = this.regHi[rs1];
    const old = this.memory.load32(addressLo, addressHi) | 0;
    const operand = this.regLo[rs2];
    let next: number;
    switch (kind) {
      case Amo.Swap:
        next = operand;
        break;
      case Amo.Add:
        next = (old + operand) | 0;
        break;
      case Amo.Xor:
        next = old ^ operand;
        break;
      case Amo.And:
        next = old & operand;
        break;
      case Amo.Or:
        next = old | operand;
        break;
      case Amo.Min:
        next = Math.min(old, operand);
        break;
      case Amo.Max:
        next = Math.max(old, operand);
        break;
      case Amo.Minu:
        next = old >>> 0 < operand >>> 0 ? old : operand;
        break;
      default:
        next = old >>> 0 > operand >>> 0 ? old : operand;
        break;
    }
    this.memory.store32(addressLo, addressHi, next >>> 0);
    this.regLo[rd] = old;
    this.regHi[rd] = old >> 31;
  }

  private atomicDouble(rd: number, rs1: number, rs2: number, kind: number): void {
    const addressLo = this.regLo[rs1];
    const addressHi = this.regHi[rs1];
    const oldLo = this.memory.load64(addressLo, addressHi) | 0;
    const oldHi = this.memory.loadHigh | 0;
    const bLo = this.regLo[rs2];
    const bHi = this.regHi[rs2];
    let nextLo = bLo;
    let nextHi = bHi;
    switch (kind) {
      case Amo.Swap:
        break;
      case Amo.Add:
        nextHi = addHigh(oldLo, oldHi, bLo, bHi);
        nextLo = (oldLo + bLo) | 0;
        break;
      case Amo.Xor:
        nextLo = oldLo ^ bLo;
        nextHi = oldHi ^ bHi;
        break;
      case Amo.And:
        nextLo = oldLo & bLo;
        nextHi = oldHi & bHi;
        break;
      case Amo.Or:
        nextLo = oldLo | bLo;
        nextHi = oldHi | bHi;
        break;
      case Amo.Min:
      case Amo.Max:
      case Amo.Minu:
      case Amo.Maxu: {
        const less =
          kind === Amo.Min || kind === Amo.Max ? lessSigned(oldLo, oldHi, bLo, bHi) : lessUnsigned(oldLo, oldHi, bLo, bHi);
        const keepOld = kind === Amo.Min || kind === Amo.Minu ? less : !less;
        if (keepOld) {
          nextLo = oldLo;
          nextHi = oldHi;
        }
        break;
      }
    }
    this.memory.store64(addressLo, addressHi, nextLo >>> 0, nextHi >>> 0);
    this.regLo[rd] = oldLo;
    this.regHi[rd] = oldHi;
  }
}


import { pageNumberOfHalves } from "../space/address.js";
import type { MemoryAccess } from "../space/backend.js";
import { HookStop, type MemoryHooks } from "../space/memory-hooks.js";
import { MemoryFault } from "../space/protection.js";
import { decode, FENCE_I, type Decoded } from "./decoder.js";
import { disassemble } from "./disassembler.js";
import { executeFloat } from "./float-unit.js";
import { addHigh, divide64, divideWordInto, lessSigned, lessUnsigned, multiplyHighSigned, multiplyHighUnsigned, multiplyLow, shiftLeftInto, shiftRightInto, wide } from "./int64.js";
import { Amo, Op, Packed } from "./ops.js";
import { Csr } from "./registers.js";

/** An illegal instruction, a failed system call or a memory fault, with the guest pc. */
export class GuestError extends Error {
  /** A guest failure: `message` and the guest pc it happened at. */
  constructor(
    message: string,
    /** The guest pc of the failing instruction. */
    readonly pc: bigint,
    options?: ErrorOptions,
  ) {
    super(`${message} (pc 0x${pc.toString(16).padStart(16, "0")})`, options);
    this.name = "GuestError";
  }
}

/** What an `ecall` does: returns true when the run must stop (the guest exited, or its time is up). */
export interface SyscallHandler {
  /** Runs the system call in the hart's registers; true when the run must stop. */
  handle(hart: Hart): boolean;
}

/** What runs the hart's slices in place of its interpreter (the block translator). */
export interface SliceExecutor {
  /** Runs at most `budget` instructions, exactly as `Hart.interpret` would; returns how many ran (fewer only when the guest stopped). */
  execute(budget: number): number;
}

/**
 * Why a run ended: the guest exited, one of the run's limits stopped it, or a hook asked
 * it to stop (a breakpoint, a watchpoint: `Hart.lastStop` says which).
 */
export type StopReason = "exit" | "instruction-limit" | "timeout" | "stop";

/**
 * The decode cache's geometry, as a const enum: TypeScript inlines the members, where a
 * module-level const is a binding TurboFan re-loads (and hole-checks) on every use in the loop.
 */
const enum DecodeCache {
  /** Decoded instructions per 4 KiB code page: [raw bits, packed word, immediate] per half-word. */
  Words = 3,
  SlotsPerPage = 2048,
  /**
   * Raw bits no fetch can produce (above 16 bits yet not ending in 0b11), marking a slot not
   * yet decoded: one comparison then checks both "decoded" and "unchanged since".
   */
  NeverFetched = 0x10000,
}
/**
 * Instructions per call of the interpreter loop. Re-entering it often lets TurboFan compile
 * it as a whole function rather than only on-stack-replace the one long-running loop, which
 * is faster (docs/design/guest-executor.md). The run's deadline is checked between slices, so
 * a slice must stay short even in a slow traced run: 2^18 is tens of milliseconds there.
 */
const RUN_SLICE_INSTRUCTIONS = 1 << 18;
/**
 * The first call's slice: short, so the interpreter runs the code after the loop (the count
 * flush) before TurboFan compiles. Without it (--trace-opt, --trace-deopt) the loop was
 * compiled on-stack while that code had no type feedback, and the compiled loop deoptimized
 * at the end of every slice.
 */
const WARM_UP_SLICE = 1 << 10;
/** fcsr's fields: the accrued exception flags (fflags) below the rounding mode (frm). */
const FFLAGS_MASK = 0x1f;
const FRM_MASK = 0x7;
const FRM_SHIFT = 5;

/**
 * One RV64IMAFDC hart. Registers are two Int32Arrays of halves (x0 reads as zero; writes to
 * it go to a discard register). Every instruction is fetched through memory as 16-bit
 * parcels (one load for a compressed instruction, two for a 32-bit one), as the reference
 * traces were recorded; decoding is cached per code page and checked against the fetched
 * bits, so self-modifying code stays correct.
 */
export class Hart {
  /**
   * Registers as int32 halves in one array: x[i] is regs[2i] (low) and regs[2i + 1] (high);
   * index 64/65 is the discard register that writes to x0 go to. One array instead of two
   * halves the map checks TurboFan repeats on every access.
   */
  readonly regs = new Int32Array(2 * (Packed.DiscardRegister + 1));
  /**
   * FP registers as raw bits in int32 halves, like `regs`: f[i] is fregs[2i] (low) and
   * fregs[2i + 1] (high). A single is NaN-boxed (high half all ones).
   */
  readonly fregs = new Int32Array(64);
  /** Accrued FP exception flags (fflags: NV DZ OF UF NX, bit 4 to bit 0). */
  fflags = 0;
  /** The dynamic rounding mode (frm). */
  frm = 0;
  /** Low 32 bits of the pc (int32). */
  pcLo = 0;
  /** High 32 bits of the pc (int32). */
  pcHi = 0;
  /** Instructions retired so far, over all runs. */
  instructions = 0;
  /** The guest's exit code once it has exited; null before. */
  exitCode: number | null = null;
  private reservationLo = 0;
  private reservationHi = 0;
  private reservationValid = false;
  /** The current run's wall-clock deadline (performance.now() milliseconds). */
  private deadlineMs = Number.POSITIVE_INFINITY;
  private timedOut = false;
  /** The hook stop that ended the last run (stopReason "stop"), else null. */
  lastStop: HookStop | null = null;
  /** The hooks whose stop requests this hart takes (its space's `hooks`), or null. */
  control: MemoryHooks | null = null;
  /** Set by setMemory: the running slice ends after the current system call and the next takes the new memory. */
  private memoryChanged = false;
  private readonly decodedPages = new Map<number, Int32Array>();
  /** Runs slices instead of the interpreter when set (translator/block-translator.ts). */
  translator: SliceExecutor | null = null;
  /** Set when a system call ended a slice early (the translator, which runs the interpreter in pieces, clears and checks it). */
  sliceEnded = false;
  /** Called at each fence.i the interpreter runs: the translator drops its code there. */
  codeFence: (() => void) | null = null;
  private readonly scratch: Decoded = { packed: 0, imm: 0 };

  /** A hart with zeroed registers and pc 0 that fetches, loads and stores through `memory`. */
  constructor(
    /** Where the guest's fetches, loads and stores go (setMemory changes it). */
    public memory: MemoryAccess,
    private readonly syscalls: SyscallHandler,
  ) {}

  /**
   * Fetches, loads and stores go to `memory` from the next slice of the run on, or right
   * after the current system call when called from one (a hook installed there sees the
   * next instruction's accesses).
   */
  setMemory(memory: MemoryAccess): void {
    this.memory = memory;
    this.memoryChanged = true;
  }

  /** The pc as an unsigned 64-bit bigint; setting it takes the value modulo 2^64. */
  get pc(): bigint {
    return (BigInt(this.pcHi >>> 0) << 32n) | BigInt(this.pcLo >>> 0);
  }

  set pc(value: bigint) {
    this.pcLo = Number(value & 0xffffffffn) | 0;
    this.pcHi = Number((value >> 32n) & 0xffffffffn) | 0;
  }

  /** Register `index` as an unsigned 64-bit bigint. */
  register(index: number): bigint {
    return (BigInt(this.regs[2 * index + 1] >>> 0) << 32n) | BigInt(this.regs[2 * index] >>> 0);
  }

  /** FP register `index`'s raw bits as an unsigned 64-bit bigint (a single is NaN-boxed). */
  floatRegister(index: number): bigint {
    return (BigInt(this.fregs[2 * index + 1] >>> 0) << 32n) | BigInt(this.fregs[2 * index] >>> 0);
  }

  /** Sets FP register `index`'s raw bits to `bits` modulo 2^64. */
  setFloatRegister(index: number, bits: bigint): void {
    const value = BigInt.asUintN(64, bits);
    this.fregs[2 * index] = Number(value & 0xffffffffn) | 0;
    this.fregs[2 * index + 1] = Number(value >> 32n) | 0;
  }

  /** fcsr: the rounding mode above the accrued exception flags; setting it sets both (other bits ignored). */
  get fcsr(): number {
    return this.fflags | (this.frm << FRM_SHIFT);
  }

  set fcsr(value: number) {
    this.fflags = value & FFLAGS_MASK;
    this.frm = (value >>> FRM_SHIFT) & FRM_MASK;
  }

  /** Sets register `index` to `value` modulo 2^64; writes to x0 are ignored. */
  setRegister(index: number, value: bigint): void {
    if (index === 0) return;
    const bits = BigInt.asUintN(64, value);
    this.regs[2 * index] = Number(bits & 0xffffffffn) | 0;
    this.regs[2 * index + 1] = Number(bits >> 32n) | 0;
  }

  /**
   * Runs until the guest exits, `maxInstructions` have run, or `timeoutMs` of wall-clock time
   * have passed; returns which. The deadline is checked between slices of the interpreter
   * loop (and by the system call handler through `deadlinePassed`), never per instruction.
   */
  run(maxInstructions = Number.POSITIVE_INFINITY, timeoutMs = Number.POSITIVE_INFINITY): StopReason {
    this.deadlineMs = performance.now() + timeoutMs;
    this.timedOut = false;
    this.lastStop = null;
    const control = this.control;
    if (control !== null) {
      // A run resumes: a fetch hook where it starts (the breakpoint it stopped at) does not stop it again.
      control.pendingStop = null;
      control.skipNextFetchStop = true;
    }
    try {
      let left = maxInstructions;
      let sliceLimit = WARM_UP_SLICE;
      while (left > 0 && this.exitCode === null && !this.deadlinePassed()) {
        const slice = Math.min(left, sliceLimit);
        sliceLimit = RUN_SLICE_INSTRUCTIONS;
        this.memoryChanged = false;
        const done = this.translator !== null ? this.translator.execute(slice) : this.interpret(slice);
        left -= done;
        // A read or write hook's stop during the last instruction a slice ran.
        if (control !== null && control.pendingStop !== null) {
          this.lastStop = control.takePendingStop();
          return "stop";
        }
        if (done < slice && !this.memoryChanged) break;
      }
    } catch (error) {
      if (error instanceof HookStop) {
        this.lastStop = error;
        return "stop";
      }
      // Guest faults get the pc; anything else is an emulator bug and stays what it is.
      if (error instanceof MemoryFault) throw new GuestError(error.message, this.pc, { cause: error });
      throw error;
    } finally {
      if (control !== null) control.skipNextFetchStop = false;
    }
    return this.exitCode !== null ? "exit" : this.timedOut ? "timeout" : "instruction-limit";
  }

  /** Whether the current run's deadline has passed; once it has, the run ends with "timeout". */
  deadlinePassed(): boolean {
    if (this.timedOut) return true;
    if (this.deadlineMs === Number.POSITIVE_INFINITY || performance.now() < this.deadlineMs) return false;
    this.timedOut = true;
    return true;
  }

  private decodedPage(pcLo: number, pcHi: number): Int32Array {
    const pageNumber = pageNumberOfHalves(pcLo, pcHi);
    let page = this.decodedPages.get(pageNumber);
    if (page === undefined) {
      page = new Int32Array(DecodeCache.SlotsPerPage * DecodeCache.Words);
      for (let slot = 0; slot < page.length; slot += DecodeCache.Words) page[slot] = DecodeCache.NeverFetched;
      this.decodedPages.set(pageNumber, page);
    }
    return page;
  }

  /** Throws the GuestError of an illegal instruction at the pc, naming it where it is one (the translator's too). */
  illegalInstruction(raw: number, lengthBytes: number): never {
    const bits = (raw >>> 0).toString(16).padStart(lengthBytes * 2, "0");
    // What the bits are, where they are an instruction at all (one of an extension this hart lacks, or a CSR it does not have).
    const { text } = disassemble(lengthBytes === 2 ? raw & 0xffff : raw, this.pc);
    const named = text.startsWith(".") ? "" : ` (${text.replace("\t", " ")})`;
    throw new GuestError(`illegal or unimplemented instruction 0x${bits}${named}`, this.pc);
  }

  /**
   * The interpreter: runs at most `budget` (below 2^30) instructions, fetching and decoding
   * each; returns how many ran. The translator runs cold code and the ends of slices here.
   */
  interpret(budget: number): number {
    const regs = this.regs;
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
    // Loads and stores made, counted here and reported once at the end (countAccesses).
    let loads = 0;
    let stores = 0;
    try {
      while (executed < budget) {
        // Fetch: one or two 16-bit parcels through memory.
        const raw = memory.fetchInstruction(pcLo, pcHi);
        loads += (raw & 3) === 3 ? 2 : 1;
        if (pcLo >>> 12 !== codePageLo || pcHi !== codePageHi) {
          decoded = this.decodedPage(pcLo, pcHi);
          codePageLo = pcLo >>> 12;
          codePageHi = pcHi;
        }
        const slot = ((pcLo & 0xfff) >>> 1) * DecodeCache.Words;
        if (decoded[slot] !== raw) {
          decode(raw, scratch);
          decoded[slot] = raw;
          decoded[slot + 1] = scratch.packed;
          decoded[slot + 2] = scratch.imm;
        }
        const packed = decoded[slot + 1];
        const imm = decoded[slot + 2];
        const immHi = imm >> 31;
        const rd = ((packed >>> Packed.RdShift) & 63) << 1;
        const rs1 = ((packed >>> Packed.Rs1Shift) & 31) << 1;
        const rs2 = ((packed >>> Packed.Rs2Shift) & 31) << 1;
        const lengthBytes = packed >>> Packed.LengthShift;
        let nextLo = (pcLo + lengthBytes) | 0;
        let nextHi = nextLo >>> 0 < lengthBytes ? (pcHi + 1) | 0 : pcHi;
        executed++;
        switch (packed & 0xff) {
          case Op.Lui:
            regs[rd] = imm;
            regs[rd + 1] = immHi;
            break;
          case Op.Auipc:
            regs[rd] = (pcLo + imm) | 0;
            regs[rd + 1] = addHigh(pcLo, pcHi, imm, immHi);
            break;
          case Op.Jal:
            regs[rd] = nextLo;
            regs[rd + 1] = nextHi;
            nextHi = addHigh(pcLo, pcHi, imm, immHi);
            nextLo = (pcLo + imm) | 0;
            break;
          case Op.Jalr: {
            const targetLo = (regs[rs1] + imm) & ~1;
            const targetHi = addHigh(regs[rs1], regs[rs1 + 1], imm, immHi);
            regs[rd] = nextLo;
            regs[rd + 1] = nextHi;
            nextLo = targetLo;
            nextHi = targetHi;
            break;
          }
          case Op.Beq:
            if (regs[rs1] === regs[rs2] && regs[rs1 + 1] === regs[rs2 + 1]) {
              nextHi = addHigh(pcLo, pcHi, imm, immHi);
              nextLo = (pcLo + imm) | 0;
            }
            break;
          case Op.Bne:
            if (regs[rs1] !== regs[rs2] || regs[rs1 + 1] !== regs[rs2 + 1]) {
              nextHi = addHigh(pcLo, pcHi, imm, immHi);
              nextLo = (pcLo + imm) | 0;
            }
            break;
          case Op.Blt:
            if (lessSigned(regs[rs1], regs[rs1 + 1], regs[rs2], regs[rs2 + 1])) {
              nextHi = addHigh(pcLo, pcHi, imm, immHi);
              nextLo = (pcLo + imm) | 0;
            }
            break;
          case Op.Bge:
            if (!lessSigned(regs[rs1], regs[rs1 + 1], regs[rs2], regs[rs2 + 1])) {
              nextHi = addHigh(pcLo, pcHi, imm, immHi);
              nextLo = (pcLo + imm) | 0;
            }
            break;
          case Op.Bltu:
            if (lessUnsigned(regs[rs1], regs[rs1 + 1], regs[rs2], regs[rs2 + 1])) {
              nextHi = addHigh(pcLo, pcHi, imm, immHi);
              nextLo = (pcLo + imm) | 0;
            }
            break;
          case Op.Bgeu:
            if (!lessUnsigned(regs[rs1], regs[rs1 + 1], regs[rs2], regs[rs2 + 1])) {
              nextHi = addHigh(pcLo, pcHi, imm, immHi);
              nextLo = (pcLo + imm) | 0;
            }
            break;
          case Op.Lb: {
            const value = memory.load8((regs[rs1] + imm) | 0, addHigh(regs[rs1], regs[rs1 + 1], imm, immHi));
            loads++;
            regs[rd] = (value << 24) >> 24;
            regs[rd + 1] = regs[rd] >> 31;
            break;
          }
          case Op.Lh: {
            const value = memory.load16((regs[rs1] + imm) | 0, addHigh(regs[rs1], regs[rs1 + 1], imm, immHi));
            loads++;
            regs[rd] = (value << 16) >> 16;
            regs[rd + 1] = regs[rd] >> 31;
            break;
          }
          case Op.Lw: {
            const value = memory.load32((regs[rs1] + imm) | 0, addHigh(regs[rs1], regs[rs1 + 1], imm, immHi)) | 0;
            loads++;
            regs[rd] = value;
            regs[rd + 1] = value >> 31;
            break;
          }
          case Op.Ld: {
            const value = memory.load64((regs[rs1] + imm) | 0, addHigh(regs[rs1], regs[rs1 + 1], imm, immHi));
            loads++;
            regs[rd] = value;
            regs[rd + 1] = memory.loadHigh;
            break;
          }
          case Op.Lbu:
            regs[rd] = memory.load8((regs[rs1] + imm) | 0, addHigh(regs[rs1], regs[rs1 + 1], imm, immHi));
            loads++;
            regs[rd + 1] = 0;
            break;
          case Op.Lhu:
            regs[rd] = memory.load16((regs[rs1] + imm) | 0, addHigh(regs[rs1], regs[rs1 + 1], imm, immHi));
            loads++;
            regs[rd + 1] = 0;
            break;
          case Op.Lwu:
            regs[rd] = memory.load32((regs[rs1] + imm) | 0, addHigh(regs[rs1], regs[rs1 + 1], imm, immHi));
            loads++;
            regs[rd + 1] = 0;
            break;
          case Op.Sb:
            memory.store8((regs[rs1] + imm) | 0, addHigh(regs[rs1], regs[rs1 + 1], imm, immHi), regs[rs2] & 0xff);
            stores++;
            break;
          case Op.Sh:
            memory.store16((regs[rs1] + imm) | 0, addHigh(regs[rs1], regs[rs1 + 1], imm, immHi), regs[rs2] & 0xffff);
            stores++;
            break;
          case Op.Sw:
            memory.store32((regs[rs1] + imm) | 0, addHigh(regs[rs1], regs[rs1 + 1], imm, immHi), regs[rs2]);
            stores++;
            break;
          case Op.Sd:
            memory.store64((regs[rs1] + imm) | 0, addHigh(regs[rs1], regs[rs1 + 1], imm, immHi), regs[rs2], regs[rs2 + 1]);
            stores++;
            break;
          case Op.Addi:
            regs[rd + 1] = addHigh(regs[rs1], regs[rs1 + 1], imm, immHi);
            regs[rd] = (regs[rs1] + imm) | 0;
            break;
          case Op.Slti:
            regs[rd] = lessSigned(regs[rs1], regs[rs1 + 1], imm, immHi) ? 1 : 0;
            regs[rd + 1] = 0;
            break;
          case Op.Sltiu:
            regs[rd] = lessUnsigned(regs[rs1], regs[rs1 + 1], imm, immHi) ? 1 : 0;
            regs[rd + 1] = 0;
            break;
          case Op.Xori:
            regs[rd + 1] = regs[rs1 + 1] ^ immHi;
            regs[rd] = regs[rs1] ^ imm;
            break;
          case Op.Ori:
            regs[rd + 1] = regs[rs1 + 1] | immHi;
            regs[rd] = regs[rs1] | imm;
            break;
          case Op.Andi:
            regs[rd + 1] = regs[rs1 + 1] & immHi;
            regs[rd] = regs[rs1] & imm;
            break;
          case Op.Slli:
            shiftLeftInto(regs, rd, regs[rs1], regs[rs1 + 1], imm);
            break;
          case Op.Srli:
            shiftRightInto(regs, rd, regs[rs1], regs[rs1 + 1], imm, false);
            break;
          case Op.Srai:
            shiftRightInto(regs, rd, regs[rs1], regs[rs1 + 1], imm, true);
            break;
          case Op.Addiw:
            regs[rd] = (regs[rs1] + imm) | 0;
            regs[rd + 1] = regs[rd] >> 31;
            break;
          case Op.Slliw:
            regs[rd] = regs[rs1] << imm;
            regs[rd + 1] = regs[rd] >> 31;
            break;
          case Op.Srliw:
            regs[rd] = regs[rs1] >>> imm;
            regs[rd + 1] = regs[rd] >> 31;
            break;
          case Op.Sraiw:
            regs[rd] = regs[rs1] >> imm;
            regs[rd + 1] = regs[rd] >> 31;
            break;
          case Op.Add: {
            const resultHi = addHigh(regs[rs1], regs[rs1 + 1], regs[rs2], regs[rs2 + 1]);
            regs[rd] = (regs[rs1] + regs[rs2]) | 0;
            regs[rd + 1] = resultHi;
            break;
          }
          case Op.Sub: {
            const borrow = regs[rs1] >>> 0 < regs[rs2] >>> 0 ? 1 : 0;
            const resultHi = (regs[rs1 + 1] - regs[rs2 + 1] - borrow) | 0;
            regs[rd] = (regs[rs1] - regs[rs2]) | 0;
            regs[rd + 1] = resultHi;
            break;
          }
          case Op.Sll:
            shiftLeftInto(regs, rd, regs[rs1], regs[rs1 + 1], regs[rs2] & 63);
            break;
          case Op.Slt:
            regs[rd] = lessSigned(regs[rs1], regs[rs1 + 1], regs[rs2], regs[rs2 + 1]) ? 1 : 0;
            regs[rd + 1] = 0;
            break;
          case Op.Sltu:
            regs[rd] = lessUnsigned(regs[rs1], regs[rs1 + 1], regs[rs2], regs[rs2 + 1]) ? 1 : 0;
            regs[rd + 1] = 0;
            break;
          case Op.Xor:
            regs[rd + 1] = regs[rs1 + 1] ^ regs[rs2 + 1];
            regs[rd] = regs[rs1] ^ regs[rs2];
            break;
          case Op.Srl:
            shiftRightInto(regs, rd, regs[rs1], regs[rs1 + 1], regs[rs2] & 63, false);
            break;
          case Op.Sra:
            shiftRightInto(regs, rd, regs[rs1], regs[rs1 + 1], regs[rs2] & 63, true);
            break;
          case Op.Or:
            regs[rd + 1] = regs[rs1 + 1] | regs[rs2 + 1];
            regs[rd] = regs[rs1] | regs[rs2];
            break;
          case Op.And:
            regs[rd + 1] = regs[rs1 + 1] & regs[rs2 + 1];
            regs[rd] = regs[rs1] & regs[rs2];
            break;
          case Op.Addw:
            regs[rd] = (regs[rs1] + regs[rs2]) | 0;
            regs[rd + 1] = regs[rd] >> 31;
            break;
          case Op.Subw:
            regs[rd] = (regs[rs1] - regs[rs2]) | 0;
            regs[rd + 1] = regs[rd] >> 31;
            break;
          case Op.Sllw:
            regs[rd] = regs[rs1] << (regs[rs2] & 31);
            regs[rd + 1] = regs[rd] >> 31;
            break;
          case Op.Srlw:
            regs[rd] = regs[rs1] >>> (regs[rs2] & 31);
            regs[rd + 1] = regs[rd] >> 31;
            break;
          case Op.Sraw:
            regs[rd] = regs[rs1] >> (regs[rs2] & 31);
            regs[rd + 1] = regs[rd] >> 31;
            break;
          case Op.Mul:
            multiplyLow(regs[rs1], regs[rs1 + 1], regs[rs2], regs[rs2 + 1]);
            regs[rd] = wide.lo;
            regs[rd + 1] = wide.hi;
            break;
          case Op.Mulh:
            multiplyHighSigned(regs[rs1], regs[rs1 + 1], regs[rs2], regs[rs2 + 1], true);
            regs[rd] = wide.lo;
            regs[rd + 1] = wide.hi;
            break;
          case Op.Mulhsu:
            multiplyHighSigned(regs[rs1], regs[rs1 + 1], regs[rs2], regs[rs2 + 1], false);
            regs[rd] = wide.lo;
            regs[rd + 1] = wide.hi;
            break;
          case Op.Mulhu:
            multiplyHighUnsigned(regs[rs1], regs[rs1 + 1], regs[rs2], regs[rs2 + 1]);
            regs[rd] = wide.lo;
            regs[rd + 1] = wide.hi;
            break;
          case Op.Div:
          case Op.Divu:
          case Op.Rem:
          case Op.Remu: {
            const op = packed & 0xff;
            divide64(regs[rs1], regs[rs1 + 1], regs[rs2], regs[rs2 + 1], op === Op.Div || op === Op.Rem, op === Op.Rem || op === Op.Remu);
            regs[rd] = wide.lo;
            regs[rd + 1] = wide.hi;
            break;
          }
          case Op.Mulw:
            regs[rd] = Math.imul(regs[rs1], regs[rs2]);
            regs[rd + 1] = regs[rd] >> 31;
            break;
          case Op.Divw:
            divideWordInto(regs, rd, regs[rs1], regs[rs2], true, false);
            break;
          case Op.Divuw:
            divideWordInto(regs, rd, regs[rs1], regs[rs2], false, false);
            break;
          case Op.Remw:
            divideWordInto(regs, rd, regs[rs1], regs[rs2], true, true);
            break;
          case Op.Remuw:
            divideWordInto(regs, rd, regs[rs1], regs[rs2], false, true);
            break;
          case Op.Fence:
            if (imm === FENCE_I && this.codeFence !== null) this.codeFence();
            break;
          case Op.Ecall:
            this.pcLo = pcLo;
            this.pcHi = pcHi;
            this.instructions = start + executed;
            if (this.systemCall()) {
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
            this.executeCsr(packed & 0xff, rd >> 1, rs1 >> 1, imm);
            break;
          case Op.LrW:
          case Op.LrD:
            this.loadReserved((packed & 0xff) === Op.LrD, rd, rs1);
            break;
          case Op.ScW:
          case Op.ScD:
            this.storeConditional((packed & 0xff) === Op.ScD, rd, rs1, rs2);
            break;
          case Op.AmoW:
            this.atomicWord(rd, rs1, rs2, imm);
            break;
          case Op.AmoD:
            this.atomicDouble(rd, rs1, rs2, imm);
            break;
          default:
            // F and D (and illegal instructions) leave the integer switch here.
            this.pcLo = pcLo;
            this.pcHi = pcHi;
            if (!executeFloat(this, packed, imm, (regs[rs1] + imm) | 0, addHigh(regs[rs1], regs[rs1 + 1], imm, immHi))) {
              this.illegalInstruction(raw, lengthBytes);
            }
        }
        pcLo = nextLo;
        pcHi = nextHi;
      }
      return executed;
    } finally {
      memory.countAccesses(loads, stores);
      this.instructions = start + executed;
      this.pcLo = pcLo;
      this.pcHi = pcHi;
    }
  }

  /**
   * Csrrw, csrrs, csrrc and their immediate forms on fflags, frm, fcsr and the read-only
   * counters; any other CSR is illegal.
   */
  executeCsr(op: number, rd: number, rs1: number, csr: number): void {
    if (csr === Csr.Fflags || csr === Csr.Frm || csr === Csr.Fcsr) {
      this.floatCsr(op, rd, rs1, csr);
      return;
    }
    if (csr !== Csr.Cycle && csr !== Csr.Time && csr !== Csr.Instret) {
      throw new GuestError(`illegal instruction: CSR 0x${csr.toString(16)} is not implemented (only cycle, time and instret are)`, this.pc);
    }
    // Csrrs/csrrc with rs1 (or the immediate) zero only read; every other form writes.
    if (op === Op.Csrrw || op === Op.Csrrwi || rs1 !== 0) {
      throw new GuestError(`illegal instruction: write to read-only CSR 0x${csr.toString(16)}`, this.pc);
    }
    // Cycle and time count instructions: deterministic, like the rest of a run.
    this.setRegister(rd === Packed.DiscardRegister ? 0 : rd, BigInt(this.instructions));
  }

  private floatCsr(op: number, rd: number, rs1: number, csr: number): void {
    const old = csr === Csr.Fflags ? this.fflags : csr === Csr.Frm ? this.frm : this.fcsr;
    const immediate = op === Op.Csrrwi || op === Op.Csrrsi || op === Op.Csrrci;
    const source = immediate ? rs1 : this.regs[2 * rs1];
    let next = old;
    if (op === Op.Csrrw || op === Op.Csrrwi) next = source;
    else if (op === Op.Csrrs || op === Op.Csrrsi) next = old | source;
    else next = old & ~source;
    if (csr === Csr.Fflags) this.fflags = next & FFLAGS_MASK;
    else if (csr === Csr.Frm) this.frm = next & FRM_MASK;
    else this.fcsr = next;
    this.regs[2 * rd] = old;
    this.regs[2 * rd + 1] = 0;
  }

  /** An ecall at the pc, with `instructions` counting it: true when the run's slice must end (the guest exited, time is up, or the memory changed). */
  systemCall(): boolean {
    const endSlice = this.syscalls.handle(this) || this.memoryChanged;
    if (endSlice) this.sliceEnded = true;
    return endSlice;
  }

  /** lr.w / lr.d: the load into rd (register-pair indices, as the decoder packs them), and the reservation on its address. */
  loadReserved(double: boolean, rd: number, rs1: number): void {
    const regs = this.regs;
    const addressLo = regs[rs1];
    const addressHi = regs[rs1 + 1];
    if (double) {
      regs[rd] = this.memory.load64(addressLo, addressHi);
      regs[rd + 1] = this.memory.loadHigh;
    } else {
      regs[rd] = this.memory.load32(addressLo, addressHi) | 0;
      regs[rd + 1] = regs[rd] >> 31;
    }
    this.memory.countAccesses(1, 0);
    this.reservationLo = addressLo;
    this.reservationHi = addressHi;
    this.reservationValid = true;
  }

  /** sc.w / sc.d: the store if the reservation holds for its address; rd gets 0 on success, 1 on failure. */
  storeConditional(double: boolean, rd: number, rs1: number, rs2: number): void {
    const regs = this.regs;
    const addressLo = regs[rs1];
    const addressHi = regs[rs1 + 1];
    const success = this.reservationValid && this.reservationLo === addressLo && this.reservationHi === addressHi;
    this.reservationValid = false;
    if (success) {
      if (double) this.memory.store64(addressLo, addressHi, regs[rs2], regs[rs2 + 1]);
      else this.memory.store32(addressLo, addressHi, regs[rs2]);
      this.memory.countAccesses(0, 1);
    }
    regs[rd] = success ? 0 : 1;
    regs[rd + 1] = 0;
  }

  /** amo*.w: the read-modify-write of the word at rs1 with rs2 (register-pair indices); rd gets the old value. */
  atomicWord(rd: number, rs1: number, rs2: number, kind: number): void {
    const addressLo = this.regs[rs1];
    const addressHi = this.regs[rs1 + 1];
    const old = this.memory.load32(addressLo, addressHi) | 0;
    const operand = this.regs[rs2];
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
    this.memory.countAccesses(1, 1);
    this.regs[rd] = old;
    this.regs[rd + 1] = old >> 31;
  }

  /** amo*.d: as atomicWord, on the doubleword at rs1. */
  atomicDouble(rd: number, rs1: number, rs2: number, kind: number): void {
    const addressLo = this.regs[rs1];
    const addressHi = this.regs[rs1 + 1];
    const oldLo = this.memory.load64(addressLo, addressHi) | 0;
    const oldHi = this.memory.loadHigh | 0;
    const bLo = this.regs[rs2];
    const bHi = this.regs[rs2 + 1];
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
    this.memory.countAccesses(1, 1);
    this.regs[rd] = oldLo;
    this.regs[rd + 1] = oldHi;
  }
}


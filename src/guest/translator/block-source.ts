/**
 * JavaScript source for one translated block: the straight-line instructions from a block's
 * start to its end (a jump, branch, system call, CSR access, fence.i, illegal instruction,
 * the end of its code page or the length limit), each specialised on its registers and
 * immediates. V8 compiles the block like any hot function; the block's exits write the pc,
 * the instruction count and the loads and stores made, as the interpreter's loop would.
 *
 * Registers stay in the hart's Int32Array (exceptions then find them exact); memory goes
 * through the hart's MemoryAccess. In observed mode (a trace, statistics or hooks watch the
 * memory) every instruction is fetched through it as the interpreter fetches, and a fetch
 * that returns other bits than were translated ends the block before that instruction. In
 * plain mode fetches are counted, not made, and a store that lands on a page with
 * translated code is checked at once, ending the block if it changed the block's page.
 */
import { FENCE_I } from "../decoder.js";
import { addHigh } from "../int64.js";
import { Op, Packed } from "../ops.js";

/** One decoded instruction of a block. */
export interface PlannedInstruction {
  pcLo: number;
  pcHi: number;
  /** The fetched bits, as `fetchInstruction` returns them (an int32). */
  raw: number;
  packed: number;
  imm: number;
}

/** The block state array a translated block and its runner share (an Int32Array). */
export const enum BlockState {
  /** 2k before instruction k's fetch, 2k + 1 while it executes; -1 once an exit has settled the counts. */
  Position = 0,
  /** Loads made (fetch parcels included) by blocks that exited, for `countAccesses`. */
  Loads = 1,
  Stores = 2,
  /** BlockFlag bits a block raises for its runner. */
  Flags = 3,
  /** The bits a mismatched fetch returned (BlockFlag.Mismatch). */
  Fetched = 4,
  Length = 5,
}

export const enum BlockFlag {
  /** An ecall asked the run's slice to end. */
  Stop = 1,
  /** fence.i: every translation is dropped. */
  FenceI = 2,
  /** Observed mode: a fetch returned bits that were not translated (state Fetched has them). */
  Mismatch = 4,
}

/** Fetch parcels an instruction's fetch counts as loads (one for a compressed instruction, two otherwise). */
export function parcelsOf(raw: number): number {
  return (raw & 3) === 3 ? 2 : 1;
}

/** Whether an instruction ends its block. */
export function endsBlock(packed: number, imm: number): boolean {
  switch (packed & 0xff) {
    case Op.Jal:
    case Op.Jalr:
    case Op.Beq:
    case Op.Bne:
    case Op.Blt:
    case Op.Bge:
    case Op.Bltu:
    case Op.Bgeu:
    case Op.Ecall:
    case Op.Ebreak:
    case Op.Csrrw:
    case Op.Csrrs:
    case Op.Csrrc:
    case Op.Csrrwi:
    case Op.Csrrsi:
    case Op.Csrrci:
    case Op.Illegal:
      return true;
    case Op.Fence:
      return imm === FENCE_I;
    default:
      return false;
  }
}

/** Names the source uses for the runtime's helpers (block-translator.ts binds them). */
export const RUNTIME_NAMES = [
  "addHigh",
  "lessSigned",
  "lessUnsigned",
  "shiftLeftInto",
  "shiftRightInto",
  "divideWordInto",
  "multiplyLow",
  "multiplyHighSigned",
  "multiplyHighUnsigned",
  "divide64",
  "wide",
  "executeFloat",
  "ebreak",
  "codeFilter",
  "codeStored",
] as const;

/** Low bits of a page number that index the code filter (a superset test: collisions only cost a check). */
export const CODE_FILTER_BITS = 16;

/** The function body of a block: `(h, regs, mem, s) => instructions run`. */
export function blockSource(instructions: readonly PlannedInstruction[], observed: boolean): string {
  const out: string[] = [];
  let loads = 0;
  let stores = 0;
  const count = instructions.length;

  /** An exit after `done` instructions to the pc (lo, hi) given as expressions. */
  const exit = (done: number, lo: string, hi: string, doneLoads: number, doneStores: number, extra = ""): string =>
    `h.pcLo = ${lo}; h.pcHi = ${hi}; h.instructions += ${done}; s[1] += ${doneLoads}; s[2] += ${doneStores};${extra} return ${done};`;

  for (let k = 0; k < count; k++) {
    const { pcLo, pcHi, raw, packed, imm } = instructions[k];
    const op = packed & 0xff;
    const immHi = imm >> 31;
    const rdField = (packed >>> Packed.RdShift) & 63;
    const rs1Field = (packed >>> Packed.Rs1Shift) & 31;
    const rs2Field = (packed >>> Packed.Rs2Shift) & 31;
    const lengthBytes = packed >>> Packed.LengthShift;
    const nextLo = (pcLo + lengthBytes) | 0;
    const nextHi = nextLo >>> 0 < lengthBytes ? (pcHi + 1) | 0 : pcHi;
    const d = rdField << 1;
    const discard = rdField === Packed.DiscardRegister;
    const a = rs1Field === 0 ? "0" : `regs[${rs1Field << 1}]`;
    const ah = rs1Field === 0 ? "0" : `regs[${(rs1Field << 1) + 1}]`;
    const b = rs2Field === 0 ? "0" : `regs[${rs2Field << 1}]`;
    const bh = rs2Field === 0 ? "0" : `regs[${(rs2Field << 1) + 1}]`;
    const loadsBefore = loads;
    const storesBefore = stores;
    loads += parcelsOf(raw);
    const done = k + 1;
    const line = (text: string) => out.push(text);
    const setPosition = () => line(`s[0] = ${2 * k + 1};`);
    const address = () => `const al = ${imm === 0 ? a : `(${a} + ${imm}) | 0`}, ah = ${imm === 0 ? ah : `addHigh(${a}, ${ah}, ${imm}, ${immHi})`};`;
    const exitHere = (to: string, toHi: string, extra = "") => exit(done, to, toHi, loads, stores, extra);
    const codeCheck = (widthBytes: number) => {
      if (observed) return;
      const lastByte = widthBytes === 1 ? "" : ` | codeFilter[((al + ${widthBytes - 1}) >>> 12) & ${(1 << CODE_FILTER_BITS) - 1}]`;
      line(`if ((codeFilter[(al >>> 12) & ${(1 << CODE_FILTER_BITS) - 1}]${lastByte}) !== 0 && codeStored(al, ah, ${widthBytes})) { ${exitHere(String(nextLo), String(nextHi))} }`);
    };

    line(`// ${k}: 0x${(pcLo >>> 0).toString(16)}`);
    if (observed) {
      line(`s[0] = ${2 * k};`);
      line(`{ const f = mem.fetchInstruction(${pcLo}, ${pcHi}); if (f !== ${raw | 0}) { s[4] = f; ${exit(k, String(pcLo), String(pcHi), loadsBefore, storesBefore, " s[3] |= 4;")} } }`);
    }
    switch (op) {
      case Op.Lui:
        if (!discard) line(`regs[${d}] = ${imm}; regs[${d + 1}] = ${immHi};`);
        break;
      case Op.Auipc:
        if (!discard) line(`regs[${d}] = ${(pcLo + imm) | 0}; regs[${d + 1}] = ${addHigh(pcLo, pcHi, imm, immHi)};`);
        break;
      case Op.Jal: {
        if (!discard) line(`regs[${d}] = ${nextLo}; regs[${d + 1}] = ${nextHi};`);
        line(exitHere(String((pcLo + imm) | 0), String(addHigh(pcLo, pcHi, imm, immHi))));
        break;
      }
      case Op.Jalr:
        line(`{ const tl = (${a} + ${imm}) & ~1, th = addHigh(${a}, ${ah}, ${imm}, ${immHi});`);
        if (!discard) line(`regs[${d}] = ${nextLo}; regs[${d + 1}] = ${nextHi};`);
        line(`${exitHere("tl", "th")} }`);
        break;
      case Op.Beq:
      case Op.Bne:
      case Op.Blt:
      case Op.Bge:
      case Op.Bltu:
      case Op.Bgeu: {
        const condition =
          op === Op.Beq
            ? `${a} === ${b} && ${ah} === ${bh}`
            : op === Op.Bne
              ? `${a} !== ${b} || ${ah} !== ${bh}`
              : `${op === Op.Bge || op === Op.Bgeu ? "!" : ""}${op === Op.Blt || op === Op.Bge ? "lessSigned" : "lessUnsigned"}(${a}, ${ah}, ${b}, ${bh})`;
        line(`if (${condition}) { ${exitHere(String((pcLo + imm) | 0), String(addHigh(pcLo, pcHi, imm, immHi)))} }`);
        line(exitHere(String(nextLo), String(nextHi)));
        break;
      }
      case Op.Lb:
      case Op.Lh:
      case Op.Lw:
      case Op.Ld:
      case Op.Lbu:
      case Op.Lhu:
      case Op.Lwu: {
        setPosition();
        const width = op === Op.Lb || op === Op.Lbu ? 8 : op === Op.Lh || op === Op.Lhu ? 16 : op === Op.Ld ? 64 : 32;
        line(`{ ${address()} const v = mem.load${width}(al, ah);`);
        const target = discard ? Packed.DiscardRegister << 1 : d;
        if (op === Op.Lb) line(`regs[${target}] = (v << 24) >> 24; regs[${target + 1}] = regs[${target}] >> 31; }`);
        else if (op === Op.Lh) line(`regs[${target}] = (v << 16) >> 16; regs[${target + 1}] = regs[${target}] >> 31; }`);
        else if (op === Op.Lw) line(`regs[${target}] = v | 0; regs[${target + 1}] = (v | 0) >> 31; }`);
        else if (op === Op.Ld) line(`regs[${target}] = v; regs[${target + 1}] = mem.loadHigh; }`);
        else line(`regs[${target}] = v; regs[${target + 1}] = 0; }`);
        loads++;
        break;
      }
      case Op.Sb:
      case Op.Sh:
      case Op.Sw:
      case Op.Sd: {
        setPosition();
        const widthBytes = op === Op.Sb ? 1 : op === Op.Sh ? 2 : op === Op.Sw ? 4 : 8;
        const value = op === Op.Sb ? `${b} & 0xff` : op === Op.Sh ? `${b} & 0xffff` : b;
        line(`{ ${address()} mem.store${widthBytes * 8}(al, ah, ${value}${op === Op.Sd ? `, ${bh}` : ""});`);
        stores++;
        codeCheck(widthBytes);
        line("}");
        break;
      }
      case Op.Addi:
        if (!discard) line(`{ const x = ${a}, xh = ${ah}; regs[${d + 1}] = addHigh(x, xh, ${imm}, ${immHi}); regs[${d}] = (x + ${imm}) | 0; }`);
        break;
      case Op.Slti:
      case Op.Sltiu:
        if (!discard) line(`regs[${d}] = ${op === Op.Slti ? "lessSigned" : "lessUnsigned"}(${a}, ${ah}, ${imm}, ${immHi}) ? 1 : 0; regs[${d + 1}] = 0;`);
        break;
      case Op.Xori:
      case Op.Ori:
      case Op.Andi: {
        const operator = op === Op.Xori ? "^" : op === Op.Ori ? "|" : "&";
        if (!discard) line(`regs[${d + 1}] = ${ah} ${operator} ${immHi}; regs[${d}] = ${a} ${operator} ${imm};`);
        break;
      }
      case Op.Slli:
      case Op.Srli:
      case Op.Srai:
        if (!discard) line(shiftByConstant(op, d, a, ah, imm));
        break;
      case Op.Addiw:
        if (!discard) line(`regs[${d}] = (${a} + ${imm}) | 0; regs[${d + 1}] = regs[${d}] >> 31;`);
        break;
      case Op.Slliw:
      case Op.Srliw:
      case Op.Sraiw: {
        const operator = op === Op.Slliw ? "<<" : op === Op.Srliw ? ">>>" : ">>";
        if (!discard) line(`regs[${d}] = ${a} ${operator} ${imm}; regs[${d + 1}] = regs[${d}] >> 31;`);
        break;
      }
      case Op.Add:
        if (!discard) line(`{ const x = ${a}, y = ${b}; regs[${d + 1}] = addHigh(x, ${ah}, y, ${bh}); regs[${d}] = (x + y) | 0; }`);
        break;
      case Op.Sub:
        if (!discard) line(`{ const x = ${a}, y = ${b}; regs[${d + 1}] = (${ah} - ${bh} - (x >>> 0 < y >>> 0 ? 1 : 0)) | 0; regs[${d}] = (x - y) | 0; }`);
        break;
      case Op.Sll:
        if (!discard) line(`shiftLeftInto(regs, ${d}, ${a}, ${ah}, ${b} & 63);`);
        break;
      case Op.Srl:
      case Op.Sra:
        if (!discard) line(`shiftRightInto(regs, ${d}, ${a}, ${ah}, ${b} & 63, ${op === Op.Sra});`);
        break;
      case Op.Slt:
      case Op.Sltu:
        if (!discard) line(`regs[${d}] = ${op === Op.Slt ? "lessSigned" : "lessUnsigned"}(${a}, ${ah}, ${b}, ${bh}) ? 1 : 0; regs[${d + 1}] = 0;`);
        break;
      case Op.Xor:
      case Op.Or:
      case Op.And: {
        const operator = op === Op.Xor ? "^" : op === Op.Or ? "|" : "&";
        if (!discard) line(`regs[${d + 1}] = ${ah} ${operator} ${bh}; regs[${d}] = ${a} ${operator} ${b};`);
        break;
      }
      case Op.Addw:
      case Op.Subw:
        if (!discard) line(`regs[${d}] = (${a} ${op === Op.Addw ? "+" : "-"} ${b}) | 0; regs[${d + 1}] = regs[${d}] >> 31;`);
        break;
      case Op.Sllw:
      case Op.Srlw:
      case Op.Sraw: {
        const operator = op === Op.Sllw ? "<<" : op === Op.Srlw ? ">>>" : ">>";
        if (!discard) line(`regs[${d}] = ${a} ${operator} (${b} & 31); regs[${d + 1}] = regs[${d}] >> 31;`);
        break;
      }
      case Op.Mul:
        if (!discard) line(`multiplyLow(${a}, ${ah}, ${b}, ${bh}); regs[${d}] = wide.lo; regs[${d + 1}] = wide.hi;`);
        break;
      case Op.Mulh:
      case Op.Mulhsu:
        if (!discard) line(`multiplyHighSigned(${a}, ${ah}, ${b}, ${bh}, ${op === Op.Mulh}); regs[${d}] = wide.lo; regs[${d + 1}] = wide.hi;`);
        break;
      case Op.Mulhu:
        if (!discard) line(`multiplyHighUnsigned(${a}, ${ah}, ${b}, ${bh}); regs[${d}] = wide.lo; regs[${d + 1}] = wide.hi;`);
        break;
      case Op.Div:
      case Op.Divu:
      case Op.Rem:
      case Op.Remu:
        if (!discard) {
          line(`divide64(${a}, ${ah}, ${b}, ${bh}, ${op === Op.Div || op === Op.Rem}, ${op === Op.Rem || op === Op.Remu}); regs[${d}] = wide.lo; regs[${d + 1}] = wide.hi;`);
        }
        break;
      case Op.Mulw:
        if (!discard) line(`regs[${d}] = Math.imul(${a}, ${b}); regs[${d + 1}] = regs[${d}] >> 31;`);
        break;
      case Op.Divw:
      case Op.Divuw:
      case Op.Remw:
      case Op.Remuw:
        if (!discard) line(`divideWordInto(regs, ${d}, ${a}, ${b}, ${op === Op.Divw || op === Op.Remw}, ${op === Op.Remw || op === Op.Remuw});`);
        break;
      case Op.Fence:
        if (imm === FENCE_I) line(exitHere(String(nextLo), String(nextHi), " s[3] |= 2;"));
        break;
      case Op.Ecall:
        // The handler sees the pc at the ecall and the count including it, as in the interpreter.
        line(`h.pcLo = ${pcLo}; h.pcHi = ${pcHi}; h.instructions += ${done}; s[1] += ${loads}; s[2] += ${stores}; s[0] = -1;`);
        line(`if (h.systemCall()) s[3] |= 1;`);
        line(`h.pcLo = ${nextLo}; h.pcHi = ${nextHi}; return ${done};`);
        break;
      case Op.Ebreak:
        setPosition();
        line(`h.pcLo = ${pcLo}; h.pcHi = ${pcHi}; throw ebreak(h);`);
        break;
      case Op.Csrrw:
      case Op.Csrrs:
      case Op.Csrrc:
      case Op.Csrrwi:
      case Op.Csrrsi:
      case Op.Csrrci:
        // cycle and instret read the count: it includes this instruction, as in the interpreter.
        line(`h.pcLo = ${pcLo}; h.pcHi = ${pcHi}; h.instructions += ${done}; s[1] += ${loads}; s[2] += ${stores}; s[0] = -1;`);
        line(`h.executeCsr(${op}, ${rdField}, ${rs1Field}, ${imm});`);
        line(`h.pcLo = ${nextLo}; h.pcHi = ${nextHi}; return ${done};`);
        break;
      case Op.LrW:
      case Op.LrD:
        setPosition();
        line(`h.loadReserved(${op === Op.LrD}, ${d}, ${rs1Field << 1});`);
        break;
      case Op.ScW:
      case Op.ScD:
        setPosition();
        line(`{ const al = ${a}, ah = ${ah}; h.storeConditional(${op === Op.ScD}, ${d}, ${rs1Field << 1}, ${rs2Field << 1});`);
        codeCheck(op === Op.ScD ? 8 : 4);
        line("}");
        break;
      case Op.AmoW:
      case Op.AmoD:
        setPosition();
        line(`{ const al = ${a}, ah = ${ah}; h.${op === Op.AmoW ? "atomicWord" : "atomicDouble"}(${d}, ${rs1Field << 1}, ${rs2Field << 1}, ${imm});`);
        codeCheck(op === Op.AmoD ? 8 : 4);
        line("}");
        break;
      case Op.Illegal:
        setPosition();
        line(`h.pcLo = ${pcLo}; h.pcHi = ${pcHi}; h.illegalInstruction(${raw | 0}, ${lengthBytes});`);
        break;
      default: {
        // F and D: the float unit, as the interpreter calls it (pc set for its errors).
        setPosition();
        line(`{ ${address()} h.pcLo = ${pcLo}; h.pcHi = ${pcHi};`);
        line(`if (!executeFloat(h, ${packed}, ${imm}, al, ah)) h.illegalInstruction(${raw | 0}, ${lengthBytes});`);
        if (op === Op.Fsw || op === Op.Fsd) codeCheck(op === Op.Fsd ? 8 : 4);
        line("}");
      }
    }
  }
  const last = instructions[count - 1];
  if (!endsBlock(last.packed, last.imm)) {
    // Cut at the page's end or the length limit: on to the next instruction.
    const lengthBytes = last.packed >>> Packed.LengthShift;
    const nextLo = (last.pcLo + lengthBytes) | 0;
    const nextHi = nextLo >>> 0 < lengthBytes ? (last.pcHi + 1) | 0 : last.pcHi;
    out.push(exit(count, String(nextLo), String(nextHi), loads, stores));
  }
  return out.join("\n");
}

/** slli, srli, srai by a constant: the amount's case chosen here, not at run time. */
function shiftByConstant(op: Op, d: number, a: string, ah: string, amount: number): string {
  if (amount === 0) return `regs[${d}] = ${a}; regs[${d + 1}] = ${ah};`;
  if (op === Op.Slli) {
    if (amount < 32) return `{ const x = ${a}; regs[${d + 1}] = (${ah} << ${amount}) | (x >>> ${32 - amount}); regs[${d}] = x << ${amount}; }`;
    return `regs[${d + 1}] = ${a} << ${amount - 32}; regs[${d}] = 0;`;
  }
  const arithmetic = op === Op.Srai;
  if (amount < 32) {
    return `{ const xh = ${ah}; regs[${d}] = (${a} >>> ${amount}) | (xh << ${32 - amount}); regs[${d + 1}] = xh ${arithmetic ? ">>" : ">>>"} ${amount}; }`;
  }
  return `{ const xh = ${ah}; regs[${d}] = xh ${arithmetic ? ">>" : ">>>"} ${amount - 32}; regs[${d + 1}] = ${arithmetic ? "xh >> 31" : "0"}; }`;
}

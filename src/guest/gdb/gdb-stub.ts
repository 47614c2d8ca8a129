/**
 * A GDB remote stub for a guest session (QEMU's `-g`): one debugger on a TCP port speaking
 * the remote serial protocol for riscv:rv64. It serves the target description, registers
 * (g/G, p/P), memory (m/M), continue and step (c/s, vCont), software and hardware
 * breakpoints (Z0/Z1) and watchpoints (Z2-Z4, through the space's hooks), interrupts
 * (Ctrl-C), kill and detach. Bad input gets the protocol's answers (a `-` for a bad
 * checksum, an empty reply for an unknown packet, `E` codes for bad arguments); a debugger
 * that goes away ends the session. The guest runs in slices between socket reads, so an
 * interrupt stops a running guest.
 */
import { createServer, type Socket } from "node:net";
import { disassemble } from "../disassembler.js";
import { GuestError } from "../hart.js";
import type { GuestSession } from "../guest-session.js";
import { AddressError } from "../../space/address.js";
import type { MemoryHook } from "../../space/memory-hooks.js";
import { MemoryFault } from "../../space/protection.js";
import { framePacket, RspReader } from "./rsp-framing.js";
import { Csr } from "../registers.js";
import { GdbRegister, TARGET_XML } from "./target-description.js";

/** Instructions a continued guest runs between looks at the socket (an interrupt waits at most this long). */
const RUN_SLICE_INSTRUCTIONS = 1 << 20;
/** Memory a debugger may read or write in one packet (PacketSize, in hex digits, bounds it). */
const PACKET_SIZE = 0x4000;
const MAX_MEMORY_BYTES = PACKET_SIZE / 2 - 16;
/** POSIX signal numbers of the stop replies. */
const enum Signal {
  Int = 2,
  Ill = 4,
  Trap = 5,
  Segv = 11,
}
/** errno-style codes of `E` replies. */
const enum ErrorReply {
  BadArgument = 1,
  /** Memory that cannot be read or written: "E14", as QEMU answers. */
  Fault = 0x14,
}
/** Instructions `monitor disasm` lists by default, and at most. */
const MONITOR_DISASM_COUNT = 10;
const MAX_MONITOR_DISASM_COUNT = 1000;
const INTEGER_REGISTERS = 32;
const FLOAT_REGISTERS = 32;
const WATCH_KINDS = { "2": "write", "3": "read", "4": "access" } as const;
const WATCH_REPLY = { write: "watch", read: "rwatch", access: "awatch" } as const;

/** How a debugging session ended. */
export type GdbOutcome =
  | { kind: "exit"; exitCode: number }
  | { kind: "killed" }
  | { kind: "disconnected" }
  | { kind: "detached"; exitCode: number | null; error?: Error };

/** Options of `serveGdb`. */
export interface GdbStubOptions {
  /** The TCP port (0: any free one, told to onListening). */
  port: number;
  /** The address to listen on (default 127.0.0.1: the debugger is local). */
  host?: string;
  /** Called once the stub listens, with its port. */
  onListening?: (port: number) => void;
}

function hexLittleEndian(value: bigint, bytes: number): string {
  let out = "";
  for (let i = 0; i < bytes; i++) out += Number((value >> BigInt(8 * i)) & 0xffn).toString(16).padStart(2, "0");
  return out;
}

function parseLittleEndian(hex: string): bigint {
  let value = 0n;
  for (let i = hex.length - 2; i >= 0; i -= 2) value = (value << 8n) | BigInt(parseInt(hex.slice(i, i + 2), 16));
  return value;
}

function parseHex(text: string): bigint {
  if (!/^[0-9a-fA-F]+$/.test(text)) throw new RangeError(`not hex: ${text}`);
  return BigInt(`0x${text}`);
}

/** Waits for one debugger on `options.port`, serves it until the guest exits or the debugger leaves, and closes the session. */
export function serveGdb(session: GuestSession, options: GdbStubOptions): Promise<GdbOutcome> {
  return new Promise((resolve, reject) => {
    const server = createServer({ noDelay: true });
    server.maxConnections = 1;
    server.on("error", reject);
    server.once("connection", (socket) => {
      server.close();
      new GdbConnection(session, socket, (outcome) => {
        session.close();
        resolve(outcome);
      });
    });
    server.listen(options.port, options.host ?? "127.0.0.1", () => {
      const address = server.address();
      options.onListening?.(typeof address === "object" && address !== null ? address.port : options.port);
    });
  });
}

/** One debugger's connection: packets in, replies out, the guest run between. */
class GdbConnection {
  private readonly reader = new RspReader();
  private acks = true;
  private lastReply = "";
  private running = false;
  private interrupted = false;
  private ended = false;
  private lastStopReply = `S${Signal.Trap.toString(16).padStart(2, "0")}`;
  private readonly breakpoints = new Map<bigint, MemoryHook>();
  private readonly watchpoints = new Map<string, MemoryHook>();
  private readonly watchKinds = new Map<MemoryHook, { kind: "write" | "read" | "access"; start: bigint }>();

  constructor(
    private readonly session: GuestSession,
    private readonly socket: Socket,
    private readonly done: (outcome: GdbOutcome) => void,
  ) {
    socket.on("data", (chunk) => this.receive(chunk));
    socket.on("error", () => this.end({ kind: "disconnected" }));
    socket.on("close", () => this.end({ kind: "disconnected" }));
  }

  /** Ends the connection: gracefully (what was written is sent first) or at once. */
  private end(outcome: GdbOutcome, graceful = false): void {
    if (this.ended) return;
    this.ended = true;
    this.running = false;
    if (graceful) this.socket.end();
    else this.socket.destroy();
    this.done(outcome);
  }

  private receive(chunk: Buffer): void {
    let items;
    try {
      items = this.reader.push(chunk);
    } catch {
      this.end({ kind: "disconnected" });
      return;
    }
    for (const item of items) {
      if (this.ended) return;
      if (item.kind === "ack") continue;
      if (item.kind === "nak") this.socket.write(this.lastReply);
      else if (item.kind === "bad-checksum") this.socket.write("-");
      else if (item.kind === "interrupt") this.interrupted = this.running;
      else {
        if (this.acks) this.socket.write("+");
        const reply = this.running ? null : this.answer(item.data);
        if (reply !== null) this.reply(reply);
      }
    }
  }

  private reply(data: string): void {
    if (this.ended) return;
    this.lastReply = framePacket(data);
    this.socket.write(this.lastReply);
  }

  /** The reply to one packet; null when it comes later (a run) or never (kill). */
  private answer(packet: string): string | null {
    try {
      return this.dispatch(packet);
    } catch (error) {
      // AddressError is a RangeError: an address outside the space is a fault, not a bad argument.
      if (error instanceof MemoryFault || error instanceof AddressError) return `E${hexByte(ErrorReply.Fault)}`;
      if (error instanceof RangeError || error instanceof SyntaxError) return `E${hexByte(ErrorReply.BadArgument)}`;
      throw error;
    }
  }

  private dispatch(packet: string): string | null {
    const hart = this.session.hart;
    switch (packet[0]) {
      case "?":
        return this.lastStopReply;
      case "g":
        return this.readAllRegisters();
      case "G":
        this.writeAllRegisters(packet.slice(1));
        return "OK";
      case "p":
        return this.readRegister(Number(parseHex(packet.slice(1))));
      case "P": {
        const [number, value] = packet.slice(1).split("=");
        this.writeRegister(Number(parseHex(number)), value);
        return "OK";
      }
      case "m": {
        const [address, length] = this.addressAndLength(packet.slice(1));
        return Buffer.from(this.session.space.read(address, length)).toString("hex");
      }
      case "M": {
        const [range, hex] = packet.slice(1).split(":");
        const [address, length] = this.addressAndLength(range);
        if (hex === undefined || hex.length !== 2 * length || !/^[0-9a-fA-F]*$/.test(hex)) throw new RangeError("M: data does not match its length");
        this.session.space.write(address, Buffer.from(hex, "hex"));
        return "OK";
      }
      case "c":
      case "s":
        if (packet.length > 1) hart.pc = parseHex(packet.slice(1));
        this.resume(packet[0] === "s");
        return null;
      case "C":
      case "S": {
        const at = packet.indexOf(";");
        if (at >= 0) hart.pc = parseHex(packet.slice(at + 1));
        this.resume(packet[0] === "S");
        return null;
      }
      case "Z":
      case "z":
        return this.breakOrWatch(packet[0] === "Z", packet.slice(1));
      case "H":
        return "OK";
      case "T":
        return "OK";
      case "k":
        this.end({ kind: "killed" });
        return null;
      case "D":
        this.reply("OK");
        this.detach();
        return null;
      case "q":
      case "Q":
        return this.query(packet);
      case "v":
        return this.verbose(packet);
      default:
        return "";
    }
  }

  private query(packet: string): string {
    if (packet.startsWith("qSupported")) return `PacketSize=${PACKET_SIZE.toString(16)};qXfer:features:read+;QStartNoAckMode+;vContSupported+;hwbreak+`;
    if (packet === "QStartNoAckMode") {
      this.acks = false;
      return "OK";
    }
    if (packet.startsWith("qXfer:features:read:")) {
      const [annex, range] = packet.slice("qXfer:features:read:".length).split(":");
      if (annex !== "target.xml") return "E00";
      const [offset, length] = (range ?? "").split(",").map((part) => Number(parseHex(part)));
      const chunk = TARGET_XML.slice(offset, offset + length);
      return (offset + length >= TARGET_XML.length ? "l" : "m") + chunk;
    }
    if (packet.startsWith("qRcmd,")) return this.monitor(Buffer.from(packet.slice("qRcmd,".length), "hex").toString("latin1").trim());
    if (packet === "qAttached") return "1";
    if (packet === "qC") return "QC1";
    if (packet === "qfThreadInfo") return "m1";
    if (packet === "qsThreadInfo") return "l";
    if (packet.startsWith("qSymbol")) return "OK";
    return "";
  }

  /**
   * gdb's `monitor` commands: `disasm [ADDRESS [COUNT]]` lists COUNT (default 10)
   * instructions from ADDRESS (default the pc) with memspace's disassembler; `help`.
   * Output goes as console packets before the final OK.
   */
  private monitor(command: string): string {
    const [name, ...args] = command.split(/\s+/);
    let text: string;
    if (name === "disasm") {
      let address = args[0] === undefined ? this.session.hart.pc : parseHex(args[0].replace(/^0x/, ""));
      const count = args[1] === undefined ? MONITOR_DISASM_COUNT : Number(args[1]);
      if (!Number.isInteger(count) || count <= 0 || count > MAX_MONITOR_DISASM_COUNT) throw new RangeError(`disasm: a count from 1 to ${MAX_MONITOR_DISASM_COUNT}`);
      const lines: string[] = [];
      for (let i = 0; i < count; i++) {
        const bytes = this.session.space.read(address, 4);
        const bits = bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24);
        const { text: instruction, lengthBytes } = disassemble(bits, address);
        lines.push(`${address === this.session.hart.pc ? "=> " : "   "}0x${address.toString(16)}:\t${instruction}`);
        address += BigInt(lengthBytes);
      }
      text = lines.join("\n") + "\n";
    } else if (name === "help" || name === "") {
      text = "monitor disasm [ADDRESS [COUNT]]: COUNT instructions (10) from ADDRESS (the pc), by memspace's disassembler\n";
    } else {
      text = `unknown monitor command "${name}" (monitor help)\n`;
    }
    this.reply(`O${Buffer.from(text, "latin1").toString("hex")}`);
    return "OK";
  }

  private verbose(packet: string): string | null {
    if (packet === "vCont?") return "vCont;c;C;s;S";
    if (packet.startsWith("vCont;")) {
      const actions = packet.slice("vCont;".length).split(";");
      const step = actions.some((action) => action[0] === "s" || action[0] === "S");
      this.resume(step);
      return null;
    }
    if (packet.startsWith("vKill")) {
      this.reply("OK");
      this.end({ kind: "killed" });
      return null;
    }
    return "";
  }

  private addressAndLength(text: string): [bigint, number] {
    const [address, length] = text.split(",");
    if (length === undefined) throw new RangeError("expected ADDRESS,LENGTH");
    const bytes = Number(parseHex(length));
    if (bytes > MAX_MEMORY_BYTES) throw new RangeError(`at most ${MAX_MEMORY_BYTES} bytes at a time`);
    return [parseHex(address), bytes];
  }

  private breakOrWatch(insert: boolean, args: string): string {
    const [type, addressText, kindText] = args.split(",");
    if (kindText === undefined) throw new RangeError("expected TYPE,ADDRESS,KIND");
    const address = parseHex(addressText);
    if (type === "0" || type === "1") {
      const existing = this.breakpoints.get(address);
      if (insert && existing === undefined) this.breakpoints.set(address, this.session.addBreakpoint(address));
      if (!insert && existing !== undefined) {
        existing.remove();
        this.breakpoints.delete(address);
      }
      return "OK";
    }
    const kind = WATCH_KINDS[type as keyof typeof WATCH_KINDS];
    if (kind === undefined) return "";
    const key = `${type},${addressText},${kindText}`;
    const existing = this.watchpoints.get(key);
    if (insert && existing === undefined) {
      const hook = this.session.space.watch(kind, address, Number(parseHex(kindText)));
      this.watchpoints.set(key, hook);
      this.watchKinds.set(hook, { kind, start: address });
    }
    if (!insert && existing !== undefined) {
      existing.remove();
      this.watchpoints.delete(key);
      this.watchKinds.delete(existing);
    }
    return "OK";
  }

  /** Runs the guest (one instruction for a step) in slices, answering with a stop reply when it stops. */
  private resume(step: boolean): void {
    this.running = true;
    this.interrupted = false;
    const slice = (): void => {
      if (this.ended) return;
      if (this.interrupted) return this.stopped(`T${hexByte(Signal.Int)}`);
      let reason;
      try {
        reason = this.session.hart.run(step ? 1 : RUN_SLICE_INSTRUCTIONS);
      } catch (error) {
        if (!(error instanceof GuestError)) throw error;
        return this.stopped(`T${hexByte(error.cause instanceof MemoryFault ? Signal.Segv : /ebreak/.test(error.message) ? Signal.Trap : Signal.Ill)}`);
      }
      if (reason === "instruction-limit" && !step) {
        setImmediate(slice);
        return;
      }
      if (reason === "exit") {
        const code = this.session.hart.exitCode ?? 0;
        this.stopped(`W${hexByte(code & 0xff)}`);
        this.end({ kind: "exit", exitCode: code }, true);
        return;
      }
      this.stopped(this.stopReply());
    };
    setImmediate(slice);
  }

  private stopped(reply: string): void {
    this.running = false;
    this.lastStopReply = reply;
    this.reply(reply);
  }

  private stopReply(): string {
    const stop = this.session.hart.lastStop;
    const watch = stop === null ? undefined : this.watchKinds.get(stop.hook);
    if (stop === null || watch === undefined) return `T${hexByte(Signal.Trap)}`;
    const address = stop.event.address > watch.start ? stop.event.address : watch.start;
    return `T${hexByte(Signal.Trap)}${WATCH_REPLY[watch.kind]}:${address.toString(16)};`;
  }

  /** D: the debugger leaves; its breakpoints and watchpoints go, and the guest runs on to its end. */
  private detach(): void {
    for (const hook of [...this.breakpoints.values(), ...this.watchpoints.values()]) hook.remove();
    const session = this.session;
    let outcome: GdbOutcome;
    try {
      const reason = session.hart.run();
      outcome = { kind: "detached", exitCode: reason === "exit" ? session.hart.exitCode : null };
    } catch (error) {
      outcome = { kind: "detached", exitCode: null, error: error as Error };
    }
    this.end(outcome, true);
  }

  private readAllRegisters(): string {
    const hart = this.session.hart;
    let out = "";
    for (let i = 0; i < INTEGER_REGISTERS; i++) out += hexLittleEndian(hart.register(i), 8);
    return out + hexLittleEndian(hart.pc, 8);
  }

  private writeAllRegisters(hex: string): void {
    if (hex.length < (INTEGER_REGISTERS + 1) * 16 || !/^[0-9a-fA-F]+$/.test(hex)) throw new RangeError("G: expected 33 registers");
    const hart = this.session.hart;
    for (let i = 1; i < INTEGER_REGISTERS; i++) hart.setRegister(i, parseLittleEndian(hex.slice(16 * i, 16 * i + 16)));
    hart.pc = parseLittleEndian(hex.slice(16 * INTEGER_REGISTERS, 16 * INTEGER_REGISTERS + 16));
  }

  private readRegister(number: number): string {
    const hart = this.session.hart;
    if (number < INTEGER_REGISTERS) return hexLittleEndian(hart.register(number), 8);
    if (number === GdbRegister.Pc) return hexLittleEndian(hart.pc, 8);
    if (number >= GdbRegister.FirstFloat && number < GdbRegister.FirstFloat + FLOAT_REGISTERS) return hexLittleEndian(hart.floatRegister(number - GdbRegister.FirstFloat), 8);
    const csr = number - GdbRegister.FirstCsr;
    if (csr === Csr.Fflags) return hexLittleEndian(BigInt(hart.fflags), 4);
    if (csr === Csr.Frm) return hexLittleEndian(BigInt(hart.frm), 4);
    if (csr === Csr.Fcsr) return hexLittleEndian(BigInt(hart.fcsr), 4);
    // The counters count instructions, as the hart's csr instructions read them.
    if (csr === Csr.Cycle || csr === Csr.Time || csr === Csr.Instret) return hexLittleEndian(BigInt(hart.instructions), 8);
    throw new RangeError(`register ${number}`);
  }

  private writeRegister(number: number, hex: string | undefined): void {
    if (hex === undefined || !/^[0-9a-fA-F]+$/.test(hex)) throw new RangeError("P: expected N=VALUE");
    const hart = this.session.hart;
    const value = parseLittleEndian(hex);
    if (number < INTEGER_REGISTERS) hart.setRegister(number, value);
    else if (number === GdbRegister.Pc) hart.pc = value;
    else if (number >= GdbRegister.FirstFloat && number < GdbRegister.FirstFloat + FLOAT_REGISTERS) hart.setFloatRegister(number - GdbRegister.FirstFloat, value);
    else if (number - GdbRegister.FirstCsr === Csr.Fflags) hart.fflags = Number(value & 0x1fn);
    else if (number - GdbRegister.FirstCsr === Csr.Frm) hart.frm = Number(value & 0x7n);
    else if (number - GdbRegister.FirstCsr === Csr.Fcsr) hart.fcsr = Number(value & 0xffn);
    else throw new RangeError(`register ${number} is not writable`);
  }
}

function hexByte(value: number): string {
  return value.toString(16).padStart(2, "0");
}

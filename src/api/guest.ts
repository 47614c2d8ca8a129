/** The RISC-V guest executor: ELF loading, the hart, Linux system calls, running a program: `memspace/guest`. */
export { DEFAULT_GUEST_ENVIRONMENT, runGuest, type RunGuestOptions, type RunGuestResult } from "../guest/run-guest.js";
export { Hart, GuestError, type SyscallHandler, type StopReason, type SliceExecutor } from "../guest/hart.js";
export { BlockTranslator, type TranslatorMode, type TranslatorStats } from "../guest/translator/block-translator.js";
export { GuestSession, type GuestSessionOptions, type RunLimits, type CodeEvent, type CodeHook } from "../guest/guest-session.js";
export { SyscallHooks, type SyscallEvent, type SyscallHook } from "../guest/syscall-hooks.js";
export { serveGdb, type GdbOutcome, type GdbStubOptions } from "../guest/gdb/gdb-stub.js";
export { disassemble, instructionLength, type Disassembled, type DisassemblyOptions } from "../guest/disassembler.js";
export { disassemblyListing, type ListingLine } from "../guest/disassembly-listing.js";
export { GuestLoadError, parseElf, type ElfImage, type LoadSegment } from "../guest/elf.js";
export { loadProgram, type LoadedProgram } from "../guest/loader.js";
export { LinuxSyscalls, type GuestFileSystemOptions, type GuestIo, type SyscallOptions } from "../guest/syscalls.js";
export { Assembler, buildElf, type ElfOverrides } from "../guest/assembler.js";
export { buildFibGuest } from "../guest/fib-guest.js";

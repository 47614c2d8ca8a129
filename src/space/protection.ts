/** Region permissions as bit flags. */
export const PROT_NONE = 0;
/** Pages may be read. */
export const PROT_READ = 1;
/** Pages may be written. */
export const PROT_WRITE = 2;
/** Pages may be executed: instruction fetches by the guest. */
export const PROT_EXEC = 4;
/** Read and write: "rw-". */
export const PROT_RW = PROT_READ | PROT_WRITE;
/** Read, write and execute: "rwx". */
export const PROT_ALL = PROT_READ | PROT_WRITE | PROT_EXEC;

/** Flags, or a string of `r`, `w`, `x` and `-` such as "rw-" or "r-x". */
export type Protection = number | string;

/** Protection flags from flags (0..7) or a string such as "r-x"; throws a RangeError for anything else. */
export function parseProtection(protection: Protection): number {
  if (typeof protection === "number") {
    if (!Number.isInteger(protection) || protection < 0 || protection > PROT_ALL) {
      throw new RangeError(`invalid protection flags ${protection} (expected 0..7)`);
    }
    return protection;
  }
  let flags = PROT_NONE;
  for (const letter of protection) {
    if (letter === "r") flags |= PROT_READ;
    else if (letter === "w") flags |= PROT_WRITE;
    else if (letter === "x") flags |= PROT_EXEC;
    else if (letter !== "-") throw new RangeError(`invalid protection "${protection}" (use r, w, x and -)`);
  }
  return flags;
}

/** The three-letter form of protection flags, such as "rw-". */
export function formatProtection(flags: number): string {
  return (flags & PROT_READ ? "r" : "-") + (flags & PROT_WRITE ? "w" : "-") + (flags & PROT_EXEC ? "x" : "-");
}

/** The kind of a memory access, for faults and permission checks. */
export type AccessKind = "read" | "write" | "fetch";

/** The protection flag an access of this kind needs. */
export function protectionNeeded(kind: AccessKind): number {
  return kind === "read" ? PROT_READ : kind === "write" ? PROT_WRITE : PROT_EXEC;
}

/** An access outside every mapping, or against a mapping's permissions (strict mode). */
export class MemoryFault extends Error {
  /** An access of `widthBytes` at `address` that was denied for `reason`. */
  constructor(
    /** Byte address of the first denied byte. */
    readonly address: bigint,
    /** Size of the access, in bytes. */
    readonly widthBytes: number,
    /** What the access was: read, write or fetch. */
    readonly access: AccessKind,
    /** Why it was denied: no mapping, a mapping without the needed permission, or an access partly inside an MMIO region. */
    readonly reason: "unmapped" | "protection" | "device",
  ) {
    super(
      `memory fault: ${widthBytes}-byte ${access} at 0x${address.toString(16).padStart(16, "0")}: ` +
        (reason === "unmapped" ? "address is not mapped" : reason === "device" ? "access is partly inside an MMIO region" : `region does not allow ${access}`),
    );
    this.name = "MemoryFault";
  }
}

/** Region permissions as bit flags. */
export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;
export const PROT_RW = PROT_READ | PROT_WRITE;
export const PROT_ALL = PROT_READ | PROT_WRITE | PROT_EXEC;

/** Flags, or a string of `r`, `w`, `x` and `-` such as "rw-" or "r-x". */
export type Protection = number | string;

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

export function formatProtection(flags: number): string {
  return (flags & PROT_READ ? "r" : "-") + (flags & PROT_WRITE ? "w" : "-") + (flags & PROT_EXEC ? "x" : "-");
}

export type AccessKind = "read" | "write" | "fetch";

export function protectionNeeded(kind: AccessKind): number {
  return kind === "read" ? PROT_READ : kind === "write" ? PROT_WRITE : PROT_EXEC;
}

/** An access outside every mapping, or against a mapping's permissions (strict mode). */
export class MemoryFault extends Error {
  constructor(
    readonly address: bigint,
    readonly widthBytes: number,
    readonly access: AccessKind,
    readonly reason: "unmapped" | "protection",
  ) {
    super(
      `memory fault: ${widthBytes}-byte ${access} at 0x${address.toString(16).padStart(16, "0")}: ` +
        (reason === "unmapped" ? "address is not mapped" : `region does not allow ${access}`),
    );
    this.name = "MemoryFault";
  }
}

import { assemble } from "../../src/guest/assembler.js";
import { GuestError, Hart, type SyscallHandler } from "../../src/guest/hart.js";
import { AddressSpace } from "../../src/space/address-space.js";
import type { MemoryAccess } from "../../src/space/backend.js";

/** Where `execute` places its program. */
export const CODE = 0x10000n;

export const noSyscalls: SyscallHandler = {
  handle(hart) {
    throw new GuestError(`unexpected ecall ${hart.register(17)}`, hart.pc);
  },
};

/**
 * Runs `program` at CODE for exactly `steps` instructions with the given registers set;
 * `wrap` may put a tee or recorder around the space's access.
 */
export function execute(
  program: (number | { c: number })[],
  registers: Record<number, bigint>,
  steps = program.length,
  wrap: (access: MemoryAccess) => MemoryAccess = (access) => access,
): Hart {
  const space = new AddressSpace();
  space.write(CODE, assemble(program));
  const hart = new Hart(wrap(space.access), noSyscalls);
  hart.pc = CODE;
  for (const [index, value] of Object.entries(registers)) hart.setRegister(Number(index), value);
  hart.run(steps);
  return hart;
}

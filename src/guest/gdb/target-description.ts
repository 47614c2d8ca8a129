/**
 * The target description the gdb stub serves (qXfer:features:read:target.xml): RV64's integer
 * registers and pc, the F and D registers with fflags, frm and fcsr, and the read-only
 * counters, numbered as gdb's riscv target numbers them (QEMU's descriptions do the same).
 */
import { Csr, FLOAT_REGISTER_NAMES, INTEGER_REGISTER_NAMES } from "../registers.js";

/** gdb's register numbers for RISC-V. */
export const enum GdbRegister {
  Pc = 32,
  FirstFloat = 33,
  /** CSR n is FirstCsr + n. */
  FirstCsr = 65,
}

/** gdb names x8 fp, where objdump says s0. */
const GDB_INTEGER_NAMES = INTEGER_REGISTER_NAMES.map((name, i) => (i === 8 ? "fp" : name));
/** The read-only counters, by the names gdb shows. */
const COUNTERS = [
  ["cycle", Csr.Cycle],
  ["time", Csr.Time],
  ["instret", Csr.Instret],
] as const;

function integerFeature(): string {
  const registers = GDB_INTEGER_NAMES.map((name, i) => `  <reg name="${name}" bitsize="64" type="${i === 1 ? "code_ptr" : i === 2 || i === 8 ? "data_ptr" : "int"}" regnum="${i}"/>`);
  return `<feature name="org.gnu.gdb.riscv.cpu">\n${registers.join("\n")}\n  <reg name="pc" bitsize="64" type="code_ptr" regnum="${GdbRegister.Pc}"/>\n</feature>`;
}

function floatFeature(): string {
  const registers = FLOAT_REGISTER_NAMES.map((name, i) => `  <reg name="${name}" bitsize="64" type="riscv_double" regnum="${GdbRegister.FirstFloat + i}"/>`);
  const csrs = [
    ["fflags", Csr.Fflags],
    ["frm", Csr.Frm],
    ["fcsr", Csr.Fcsr],
  ].map(([name, csr]) => `  <reg name="${name}" bitsize="32" type="int" regnum="${GdbRegister.FirstCsr + (csr as number)}"/>`);
  return [
    `<feature name="org.gnu.gdb.riscv.fpu">`,
    `  <union id="riscv_double"><field name="float" type="ieee_single"/><field name="double" type="ieee_double"/></union>`,
    ...registers,
    ...csrs,
    `</feature>`,
  ].join("\n");
}

function csrFeature(): string {
  const registers = COUNTERS.map(([name, csr]) => `  <reg name="${name}" bitsize="64" type="int" regnum="${GdbRegister.FirstCsr + csr}" group="general"/>`);
  return `<feature name="org.gnu.gdb.riscv.csr">\n${registers.join("\n")}\n</feature>`;
}

/** The whole description. */
export const TARGET_XML = `<?xml version="1.0"?>
<!DOCTYPE target SYSTEM "gdb-target.dtd">
<target version="1.0">
<architecture>riscv:rv64</architecture>
${integerFeature()}
${floatFeature()}
${csrFeature()}
</target>
`;

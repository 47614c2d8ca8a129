/**
 * The target description the gdb stub serves (qXfer:features:read:target.xml): RV64's integer
 * registers and pc, the F and D registers with fflags, frm and fcsr, and the read-only
 * counters, numbered as gdb's riscv target numbers them (QEMU's descriptions do the same).
 */

/** gdb's register numbers for RISC-V. */
export const enum GdbRegister {
  Pc = 32,
  FirstFloat = 33,
  /** CSR n is FirstCsr + n. */
  FirstCsr = 65,
}

/** The integer registers by ABI name, x0 first. */
export const INTEGER_REGISTER_NAMES = ["zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "fp", "s1", "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"] as const;
/** The FP registers by ABI name, f0 first. */
export const FLOAT_REGISTER_NAMES = ["ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1", "fa2", "fa3", "fa4", "fa5", "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11"] as const;
/** The CSRs served, by number. */
export const CSR_FFLAGS = 0x001;
export const CSR_FRM = 0x002;
export const CSR_FCSR = 0x003;
export const COUNTER_CSRS = { cycle: 0xc00, time: 0xc01, instret: 0xc02 } as const;

function integerFeature(): string {
  const registers = INTEGER_REGISTER_NAMES.map((name, i) => `  <reg name="${name}" bitsize="64" type="${i === 1 ? "code_ptr" : i === 2 || i === 8 ? "data_ptr" : "int"}" regnum="${i}"/>`);
  return `<feature name="org.gnu.gdb.riscv.cpu">\n${registers.join("\n")}\n  <reg name="pc" bitsize="64" type="code_ptr" regnum="${GdbRegister.Pc}"/>\n</feature>`;
}

function floatFeature(): string {
  const registers = FLOAT_REGISTER_NAMES.map((name, i) => `  <reg name="${name}" bitsize="64" type="riscv_double" regnum="${GdbRegister.FirstFloat + i}"/>`);
  const csrs = [
    ["fflags", CSR_FFLAGS],
    ["frm", CSR_FRM],
    ["fcsr", CSR_FCSR],
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
  const registers = Object.entries(COUNTER_CSRS).map(([name, csr]) => `  <reg name="${name}" bitsize="64" type="int" regnum="${GdbRegister.FirstCsr + csr}" group="general"/>`);
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

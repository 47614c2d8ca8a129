import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { disassemble } from "../../src/guest/disassembler.js";
import { disassemblyListing } from "../../src/guest/disassembly-listing.js";

const BUILD = fileURLToPath(new URL("../../../guests/build/", import.meta.url));
const CLI = fileURLToPath(new URL("../../src/cli/memspace.cjs", import.meta.url));
/** glibc programs (libm and fenv for the F and D extensions, debuggee built -O0), Lua and the bare-metal guests. */
const PROGRAMS = ["linux/hello", "linux/libm", "linux/fenv", "linux/debuggee", "lua.elf", "vm.elf", "hash.elf", "sort.elf"];
const objdumpThere = spawnSync("riscv64-linux-gnu-objdump", ["--version"]).status === 0;
const built = PROGRAMS.every((program) => existsSync(BUILD + program));
// In CI both must be there (a silent skip would hide a break): the tests then fail instead.
const skip = (!objdumpThere || !built) && process.env.CI !== "true" ? "riscv64-linux-gnu-objdump or the guests missing (bash scripts/setup-guests.sh)" : false;

/** objdump -d's lines: address to text (comments and symbol annotations dropped). */
function objdumpLines(path: string): Map<bigint, string> {
  const lines = new Map<bigint, string>();
  const output = execFileSync("riscv64-linux-gnu-objdump", ["-d", path], { encoding: "utf8", maxBuffer: 1 << 30 });
  for (const line of output.split("\n")) {
    const match = /^\s*([0-9a-f]+):\t[0-9a-f]+\s*\t(.*)$/.exec(line);
    if (match) lines.set(BigInt(`0x${match[1]}`), match[2].replace(/\s+#.*$/, "").replace(/\s+<[^>]*>$/, "").trimEnd());
  }
  return lines;
}

describe("the disassembler against riscv64-linux-gnu-objdump -d", { skip }, () => {
  for (const program of PROGRAMS) {
    it(`gives objdump's mnemonic and operands for every instruction of ${program}, and its data where objdump shows data`, () => {
      const path = BUILD + program;
      const expected = objdumpLines(path);
      let instructions = 0;
      let data = 0;
      const mismatches: string[] = [];
      const seen = new Set<bigint>();
      for (const line of disassemblyListing(readFileSync(path), path)) {
        if (line.kind !== "instruction") continue;
        seen.add(line.address);
        const want = expected.get(line.address);
        if (want === undefined) continue; // inside a run objdump shows in other pieces (data)
        const objdumpData = /^\.(byte|2byte|4byte|8byte)\b/.test(want);
        if (objdumpData || line.data) {
          if (objdumpData !== line.data) mismatches.push(`0x${line.address.toString(16)}: objdump ${want}, we ${line.text}`);
          data++;
          continue;
        }
        instructions++;
        if (line.text !== want && mismatches.length < 10) mismatches.push(`0x${line.address.toString(16)} ${line.bits.toString(16)}: objdump "${want}", we "${line.text}"`);
      }
      const unlisted = [...expected].filter(([address, text]) => !seen.has(address) && !/^\.(byte|2byte|4byte|8byte)\b/.test(text));
      assert.deepEqual(mismatches, []);
      assert.deepEqual(unlisted.slice(0, 5), [], "every instruction objdump lists, we list at the same address");
      assert.ok(instructions > 1000, `${instructions} instructions compared (${data} data pieces)`);
    });
  }
});

describe("the disassembler", () => {
  it("names instructions as objdump does: aliases, compressed forms, rounding modes, CSRs, atomics", () => {
    const pc = 0x10000n;
    const cases: Array<[number, string]> = [
      [0x00000013, "nop"],
      [0x8082, "ret"],
      [0x7179, "add\tsp,sp,-48"],
      [0x853e, "mv\ta0,a5"],
      [0xc22797d3, "fcvt.l.d\ta5,fa5,rtz"],
      [0x12f777d3, "fmul.d\tfa5,fa4,fa5"],
      [0x00065797, "auipc\ta5,0x65"],
      [0x0000006f, "j\t10000"],
      [0xfe0798e3 | 0, "bnez\ta5,fff0"],
      [0x002027f3, "frrm\ta5"],
      [0x0c0522af, "amoswap.w.aq\tt0,zero,(a0)"],
      [0x100527af, "lr.w\ta5,(a0)"],
      [0x00100073, "ebreak"],
      [0x0ff0000f, "fence"],
      [0x0000, "unimp"],
    ];
    for (const [bits, text] of cases) assert.equal(disassemble(bits, pc).text, text, `0x${(bits >>> 0).toString(16)}`);
    assert.equal(disassemble(0x0000007b, pc).text, ".4byte\t0x7b", "no instruction (custom-3): data");
    assert.equal(disassemble(0xffffffff | 0, pc).text, ".2byte\t0xffff", "a reserved length: a parcel of data, as objdump steps over it");
    assert.equal(disassemble(0x9c41, pc).text, ".2byte\t0x9c41", "a reserved compressed encoding: data, as objdump shows it");
  });

  it("never throws, and takes 2 bytes for a parcel and 4 for a 32-bit instruction (fast-check)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (bits, pc) => {
        const result = disassemble(bits | 0, pc);
        assert.equal(result.lengthBytes, (bits & 3) === 3 && (bits & 0x1f) !== 0x1f ? 4 : 2);
        assert.ok(result.text.length > 0 && !result.text.includes("undefined"), result.text);
      }),
      { numRuns: 20_000 },
    );
  });
});

describe("memspace disasm", { skip: !existsSync(BUILD + "linux/debuggee") && process.env.CI !== "true" ? "guests missing (bash scripts/setup-guests.sh)" : false }, () => {
  it("lists a program's code with its functions' labels; a file that is not a RISC-V program is an error naming it", () => {
    const listing = execFileSync(process.execPath, [CLI, "disasm", BUILD + "linux/debuggee"], { encoding: "utf8", maxBuffer: 1 << 28 });
    assert.match(listing, /Disassembly of section \.text:/);
    assert.match(listing, /\n0{8}[0-9a-f]{8} <add_scaled>:\n +[0-9a-f]+:\t[0-9a-f]+\tadd\tsp,sp,-48\n/);
    const bad = spawnSync(process.execPath, [CLI, "disasm", fileURLToPath(import.meta.url)], { encoding: "utf8" });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /disassembler\.test\.js: not an ELF file/);
  });
});

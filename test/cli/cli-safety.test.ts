import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Assembler, buildElf, iType, jType, Reg } from "../../src/guest/assembler.js";
import { buildFibGuest } from "../../src/guest/fib-guest.js";
import { withTempDir } from "../helpers.js";

const MAIN = fileURLToPath(new URL("../../src/cli/memspace.cjs", import.meta.url));
const PACKAGE_JSON = fileURLToPath(new URL("../../../package.json", import.meta.url));

function memspace(args: string[], input?: string | Uint8Array): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [MAIN, ...args], { encoding: "utf8", input });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const LACKEY_LOG = "==1== Lackey\nI  04000000,3\n L 1ffefffe00,8\n S 1ffefffe08,4\n M 0401a000,2\n";

describe("memspace never loses a user's data", () => {
  it("import-lackey refuses to write over its own input, which stays intact", () => {
    withTempDir((folder) => {
      const log = join(folder, "lackey.log");
      writeFileSync(log, LACKEY_LOG);
      const run = memspace(["trace", "import-lackey", log, "-o", log]);
      assert.equal(run.status, 1, run.stderr);
      assert.match(run.stderr, /lackey\.log: is the same file as the input .*lackey\.log; refusing to overwrite an input/);
      assert.equal(readFileSync(log, "utf8"), LACKEY_LOG);
      assert.deepEqual(readdirSync(folder), ["lackey.log"]);
    });
  });

  it("run refuses to write its trace over the guest", () => {
    withTempDir((folder) => {
      const guest = join(folder, "fib.elf");
      const elf = buildFibGuest(10);
      writeFileSync(guest, elf);
      const run = memspace(["run", guest, "--trace", guest]);
      assert.equal(run.status, 1, run.stderr);
      assert.match(run.stderr, /fib\.elf: is the same file as the input/);
      assert.deepEqual(new Uint8Array(readFileSync(guest)), elf);
    });
  });

  it("a failed import-lackey leaves no output, and an existing output as it was", () => {
    withTempDir((folder) => {
      const bad = join(folder, "bad.log");
      writeFileSync(bad, "I  04000000,3\n L 1ffefffe00,8\nnot a lackey line\n");
      const output = join(folder, "out.trace");
      const failed = memspace(["trace", "import-lackey", bad, "-o", output]);
      assert.equal(failed.status, 1);
      assert.match(failed.stderr, /bad\.log: line 3: not a lackey access line/);
      assert.equal(existsSync(output), false);
      const missing = memspace(["trace", "import-lackey", join(folder, "missing.log"), "-o", output]);
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /missing\.log/);
      assert.equal(existsSync(output), false);
      writeFileSync(output, "earlier trace");
      assert.equal(memspace(["trace", "import-lackey", bad, "-o", output]).status, 1);
      assert.equal(readFileSync(output, "utf8"), "earlier trace");
      assert.deepEqual(readdirSync(folder).sort(), ["bad.log", "out.trace"], "no temporary files are left");
    });
  });
});

describe("memspace's command line", () => {
  it("usage errors exit 2 in every command, with one message", () => {
    const cases: string[][] = [
      ["nonsense"],
      ["replay"],
      ["replay", "x.trace", "--backend", "fast"],
      ["replay", "x.trace", "--json"],
      ["trace", "gen", "--shape", "fib", "--ops", "", "-o", "x"],
      ["trace", "gen", "--shape", "fib", "--ops", "1e3", "-o", "x"],
      ["trace", "gen", "--shape", "fib", "--ops", "0x10", "-o", "x"],
      ["trace", "gen", "--shape", "nope", "--ops", "1", "-o", "x"],
      ["trace", "import-lackey", "x.log"],
      ["run", "x.elf", "--max-instructions", "-5"],
      ["run", "x.elf", "--timeout", "0"],
      ["run", "x.elf", "--error-exitcode", "256"],
      ["crash-test", "disks"],
      ["crash-test", "frames", "--durability", "sometimes"],
      ["demo", "--iterations", "1.5"],
    ];
    for (const args of cases) {
      const run = memspace(args);
      assert.equal(run.status, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, /^memspace: /, args.join(" "));
    }
  });

  it("--version prints the package's version", () => {
    const { version } = JSON.parse(readFileSync(PACKAGE_JSON, "utf8")) as { version: string };
    const run = memspace(["--version"]);
    assert.equal(run.status, 0);
    assert.equal(run.stdout.trim(), version);
  });

  it("--json FILE writes one document atomically; --json - puts it on stdout and the human report on stderr", () => {
    withTempDir((folder) => {
      const trace = join(folder, "fib.trace");
      const gen = memspace(["trace", "gen", "--shape", "fib", "--ops", "3_000", "-o", trace, "--json", "-"]);
      assert.equal(gen.status, 0, gen.stderr);
      assert.deepEqual(JSON.parse(gen.stdout), { output: trace, shape: "fib", seed: 1, format: "seed", ops: 3000, sizeBytes: 3000 * 10 + 8 });
      assert.match(gen.stderr, /wrote 3,000 ops/);

      const stats = memspace(["trace", "stats", trace, "--json", "-"]);
      assert.equal(JSON.parse(stats.stdout).ops, 3000);
      assert.match(stats.stderr, /page transitions/);

      const replay = memspace(["replay", trace, "--backend", "noop,paged", "--json", "-"]);
      assert.equal(replay.status, 0, replay.stderr);
      const document = JSON.parse(replay.stdout) as { trace: string; backends: Array<{ backend: string; ops: number; checksum: string }> };
      assert.deepEqual(document.backends.map((row) => [row.backend, row.ops]), [["noop", 3000], ["paged", 3000]]);
      assert.match(replay.stderr, /^paged\s+3,000\s/m);

      const json = join(folder, "replay.json");
      const toFile = memspace(["replay", trace, "--json", json]);
      assert.equal(toFile.status, 0, toFile.stderr);
      assert.match(toFile.stdout, /^paged\s+3,000\s/m, "with --json FILE the human report stays on stdout");
      assert.equal((JSON.parse(readFileSync(json, "utf8")) as typeof document).backends[0].ops, 3000);
      const aliased = memspace(["replay", trace, "--json", trace]);
      assert.equal(aliased.status, 1);
      assert.match(aliased.stderr, /refusing to overwrite an input/);
      assert.equal(readFileSync(trace).length, 3000 * 10 + 8);

      const log = join(folder, "lackey.log");
      writeFileSync(log, LACKEY_LOG);
      const lackey = memspace(["trace", "import-lackey", log, "-o", join(folder, "l.trace"), "--json", "-"]);
      assert.equal(lackey.status, 0, lackey.stderr);
      const imported = JSON.parse(lackey.stdout) as { ops: number; instructionFetches: number; modifies: number };
      assert.deepEqual([imported.instructionFetches, imported.modifies], [1, 1]);
      assert.ok(imported.ops > 0);
    });
  });
});

describe("memspace run's exit status", () => {
  const exitWith = (code: number): Uint8Array => buildElf(new Assembler().li(Reg.a0, code).li(Reg.a7, 93).ecall().code());
  const spin = (): Uint8Array => buildElf(new Assembler().emit(jType(0, 0)).code());
  /** Calls system call 4000 (unknown), then exits with its result's low byte. */
  const unknownSyscall = (): Uint8Array => buildElf(new Assembler().li(Reg.a7, 4000).ecall().li(Reg.a7, 93).ecall().code());
  /** `csrr a0, mstatus`: a machine-mode CSR, an illegal instruction for a user program. */
  const illegal = (): Uint8Array => buildElf(new Assembler().emit(iType(0x300, 0, 2, Reg.a0, 0x73)).code());

  it("gives the guest memspace's own standard input, as qemu-user does, unless --stdin names a file", () => {
    // cat: read(0, sp - 256, 256) until it returns 0 or less, writing each piece to fd 1.
    const cat = new Assembler()
      .label("loop")
      .addi(Reg.a1, Reg.sp, -256)
      .li(Reg.a0, 0)
      .li(Reg.a2, 256)
      .li(Reg.a7, 63)
      .ecall()
      .beq(Reg.a0, Reg.zero, "done")
      .mv(Reg.a2, Reg.a0)
      .li(Reg.a0, 1)
      .addi(Reg.a1, Reg.sp, -256)
      .li(Reg.a7, 64)
      .ecall()
      .jal(Reg.zero, "loop")
      .label("done")
      .li(Reg.a0, 0)
      .li(Reg.a7, 93)
      .ecall();
    withTempDir((folder) => {
      const guest = join(folder, "cat.elf");
      writeFileSync(guest, buildElf(cat.code()));
      const text = "a line for the guest\n".repeat(100);
      const piped = memspace(["run", guest, "--max-instructions", "1000000"], text);
      assert.equal(piped.status, 0, piped.stderr);
      assert.equal(piped.stdout, text, "every byte, across several reads of 256");
      const empty = memspace(["run", guest, "--max-instructions", "1000000"], "");
      assert.deepEqual([empty.status, empty.stdout], [0, ""]);
      const file = join(folder, "input.txt");
      writeFileSync(file, "from the file\n");
      const fromFile = memspace(["run", guest, "--stdin", file, "--max-instructions", "1000000"], "from the pipe\n");
      assert.deepEqual([fromFile.status, fromFile.stdout], [0, "from the file\n"]);
    });
  });

  it("is the guest's own status when it exits", () => {
    withTempDir((folder) => {
      const guest = join(folder, "exit3.elf");
      writeFileSync(guest, exitWith(3));
      const run = memspace(["run", guest]);
      assert.equal(run.status, 3, run.stderr);
      assert.equal(run.stderr, "");
    });
  });

  it("is 125, or --error-exitcode, when the emulator cannot go on; the reason names the guest and pc", () => {
    withTempDir((folder) => {
      const guest = join(folder, "illegal.elf");
      writeFileSync(guest, illegal());
      const run = memspace(["run", guest]);
      assert.equal(run.status, 125);
      assert.match(run.stderr, /illegal\.elf: illegal instruction.*CSR 0x300.*pc 0x0000000000010078/);
      assert.equal(memspace(["run", guest, "--error-exitcode", "99"]).status, 99);
      const notElf = join(folder, "notes.txt");
      writeFileSync(notElf, "not an ELF file at all, just some words");
      const bad = memspace(["run", notElf]);
      assert.equal(bad.status, 125);
      assert.match(bad.stderr, /notes\.txt/);
    });
  });

  it("is 124 when --max-instructions or --timeout stops the guest", () => {
    withTempDir((folder) => {
      const guest = join(folder, "spin.elf");
      writeFileSync(guest, spin());
      const limited = memspace(["run", guest, "--max-instructions", "1_000"]);
      assert.equal(limited.status, 124);
      assert.match(limited.stderr, /stopped by --max-instructions 1000 after 1,000 instructions/);
      const started = Date.now();
      const timed = memspace(["run", guest, "--timeout", "0.3"]);
      assert.equal(timed.status, 124);
      assert.match(timed.stderr, /stopped by --timeout 0\.3 s/);
      assert.ok(Date.now() - started < 10_000, "the timeout stops the guest promptly");
    });
  });

  it("an unknown system call returns -ENOSYS; --verbose names it once; --strict-syscalls stops the guest", () => {
    withTempDir((folder) => {
      const guest = join(folder, "probe.elf");
      writeFileSync(guest, unknownSyscall());
      const run = memspace(["run", guest]);
      assert.equal(run.status, (-38 & 0xff), "the guest saw -ENOSYS and exited with it");
      assert.equal(run.stderr, "");
      const verbose = memspace(["run", guest, "--verbose"]);
      assert.equal(verbose.status, -38 & 0xff);
      assert.match(verbose.stderr, /^memspace: .*probe\.elf: unknown system call 4000, returned -ENOSYS\n$/);
      const strict = memspace(["run", guest, "--strict-syscalls"]);
      assert.equal(strict.status, 125);
      assert.match(strict.stderr, /system call 4000/);
    });
  });

  it("--json FILE holds the run's figures; a failed run leaves no trace file", () => {
    withTempDir((folder) => {
      const guest = join(folder, "exit7.elf");
      writeFileSync(guest, exitWith(7));
      const json = join(folder, "run.json");
      const trace = join(folder, "run.trace");
      const run = memspace(["run", guest, "--json", json, "--trace", trace]);
      assert.equal(run.status, 7, run.stderr);
      const figures = JSON.parse(readFileSync(json, "utf8")) as { stopReason: string; exitCode: number; instructions: number; trace: { ops: number } };
      assert.deepEqual([figures.stopReason, figures.exitCode, figures.instructions], ["exit", 7, 3]);
      assert.equal(figures.trace.ops, 6, "three 32-bit instructions, fetched as two parcels each");
      assert.equal(memspace(["run", guest, "--json", "-"]).status, 2);
      const illegalGuest = join(folder, "illegal.elf");
      writeFileSync(illegalGuest, illegal());
      const failedTrace = join(folder, "failed.trace");
      assert.equal(memspace(["run", illegalGuest, "--trace", failedTrace]).status, 125);
      assert.equal(existsSync(failedTrace), false);
    });
  });
});

import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { buildFibGuest, fibonacciMod64 } from "../../src/guest/fib-guest.js";
import { GuestSession, type CodeEvent } from "../../src/guest/guest-session.js";
import { runGuest } from "../../src/guest/run-guest.js";
import type { MemoryEvent } from "../../src/space/memory-hooks.js";
import { TraceStats } from "../../src/trace/stats.js";
import { withTempDir } from "../helpers.js";

const ITERATIONS = 50;
const SYS_WRITE = 64;

/** A session on the assembled Fibonacci guest (ITERATIONS loop turns), its output collected. */
function fibSession(folder: string, options: ConstructorParameters<typeof GuestSession>[1] = {}): { session: GuestSession; output: () => string } {
  const path = join(folder, "fib.elf");
  writeFileSync(path, buildFibGuest(ITERATIONS));
  const chunks: Uint8Array[] = [];
  const session = new GuestSession(path, { write: (_fd, bytes) => void chunks.push(bytes.slice()), ...options });
  return { session, output: () => Buffer.concat(chunks).toString() };
}

/** Every instruction the guest runs, in order, with an unhooked reference run's count. */
function reference(folder: string): { pcs: bigint[]; instructions: number } {
  const { session } = fibSession(folder);
  const pcs: bigint[] = [];
  session.addCodeHook(0n, 1n << 64n, (event) => void pcs.push(event.pc));
  assert.equal(session.run(), "exit");
  session.close();
  return { pcs, instructions: session.hart.instructions };
}

describe("a guest session", () => {
  it("code hooks see every instruction once, in order: as many as the hart retires", () =>
    withTempDir((folder) => {
      const { pcs, instructions } = reference(folder);
      const { session, output } = fibSession(folder);
      assert.equal(session.run(), "exit");
      assert.equal(session.hart.instructions, instructions, "hooks do not change the run");
      assert.equal(pcs.length, instructions);
      assert.equal(output(), `${fibonacciMod64(ITERATIONS)}\n`);
    }));

  it("stops at a breakpoint before the instruction runs, as often as it is reached, and runs on to the same end", () =>
    withTempDir((folder) => {
      const { pcs, instructions } = reference(folder);
      // The loop's first instruction: the pc reached ITERATIONS times.
      const counts = new Map<bigint, number>();
      for (const pc of pcs) counts.set(pc, (counts.get(pc) ?? 0) + 1);
      const loopPc = [...counts].find(([, count]) => count === ITERATIONS)![0];
      const hits = pcs.flatMap((pc, index) => (pc === loopPc ? [index] : []));
      const { session, output } = fibSession(folder);
      session.addBreakpoint(loopPc);
      let stops = 0;
      for (;;) {
        const reason = session.run();
        if (reason === "exit") break;
        assert.equal(reason, "stop");
        assert.equal(session.hart.pc, loopPc);
        assert.equal(session.hart.lastStop?.event.kind, "fetch");
        assert.equal(session.hart.instructions, hits[stops], "nothing of the stopped instruction ran");
        stops++;
      }
      assert.equal(stops, ITERATIONS);
      assert.equal(session.hart.instructions, instructions);
      assert.equal(output(), `${fibonacciMod64(ITERATIONS)}\n`);
    }));

  it("steps one instruction at a time along the reference path, and runs until an address", () =>
    withTempDir((folder) => {
      const { pcs } = reference(folder);
      const { session } = fibSession(folder);
      for (let i = 0; i < 40; i++) {
        assert.equal(session.hart.pc, pcs[i]);
        assert.equal(session.step(), "instruction-limit");
        assert.equal(session.hart.instructions, i + 1);
      }
      const target = pcs[200];
      assert.equal(session.runUntil(target), "stop");
      assert.equal(session.hart.pc, target);
      assert.equal(session.hart.instructions, pcs.indexOf(target, 40));
      assert.equal(session.space.hooks.active, false, "runUntil leaves no breakpoint behind");
      assert.equal(session.run({ maxInstructions: 10 }), "instruction-limit");
      assert.equal(session.run(), "exit");
    }));

  it("stops after the instruction that writes a watched range, with the write's address and value", () =>
    withTempDir((folder) => {
      const { session } = fibSession(folder);
      // The loop keeps F(i) at sp - 64 (its first store is before the loop).
      const slot = session.initialStackPointer - 64n;
      const written: bigint[] = [];
      session.space.watch("write", slot, 8, (event: MemoryEvent) => void written.push(event.value));
      let stops = 0;
      let reason = session.run();
      while (reason === "stop") {
        const stop = session.hart.lastStop!;
        assert.equal(stop.event.kind, "write");
        assert.equal(stop.event.address, slot);
        assert.equal(session.space.load64(slot), stop.event.value, "the write has happened when the run stops");
        stops++;
        reason = session.run();
      }
      assert.equal(reason, "exit");
      assert.equal(stops, ITERATIONS + 1);
      assert.deepEqual(written.slice(0, 4), [0n, 1n, 1n, 2n]);
      assert.equal(written.at(-1), fibonacciMod64(ITERATIONS));
    }));

  it("a read watchpoint stops a single step too: the step reports it", () =>
    withTempDir((folder) => {
      const { session } = fibSession(folder);
      const slot = session.initialStackPointer - 64n;
      session.space.watch("read", slot, 8);
      let reason = session.step();
      let steps = 1;
      while (reason === "instruction-limit") {
        reason = session.step();
        steps++;
      }
      assert.equal(reason, "stop");
      assert.equal(session.hart.lastStop?.event.kind, "read");
      assert.ok(steps > 5 && steps < 20, `the first ld is a few instructions in (${steps})`);
    }));

  it("a hook that removes itself during a run sees no instruction after that, and one added by it sees the rest", () =>
    withTempDir((folder) => {
      const { instructions } = reference(folder);
      const { session } = fibSession(folder);
      let early = 0;
      let late = 0;
      const hook = session.addCodeHook(0n, 1n << 64n, () => {
        if (++early === 100) {
          hook.remove();
          session.addCodeHook(0n, 1n << 64n, () => void late++);
        }
      });
      assert.equal(session.run(), "exit");
      assert.equal(early, 100);
      assert.equal(late, instructions - 100);
    }));

  it("basic-block hooks see each block's first instruction: the loop's once a turn", () =>
    withTempDir((folder) => {
      const { pcs } = reference(folder);
      const { session } = fibSession(folder);
      const starts: CodeEvent[] = [];
      session.addBlockHook((event) => void starts.push(event));
      assert.equal(session.run(), "exit");
      const counts = new Map<bigint, number>();
      for (const event of starts) counts.set(event.pc, (counts.get(event.pc) ?? 0) + 1);
      assert.ok([...counts.values()].includes(ITERATIONS - 1), "the loop's head, after each taken back-branch");
      assert.equal(starts[0].pc, pcs[0], "the run's first instruction starts a block");
      assert.ok(starts.length < session.hart.instructions / 3);
    }));

  it("system-call hooks observe calls and may replace them; a hook added from one sees the next instruction's accesses", () =>
    withTempDir((folder) => {
      const { session, output } = fibSession(folder);
      const calls: number[] = [];
      const fetchesAfter: bigint[] = [];
      session.onSyscall((event) => {
        calls.push(event.number);
        if (event.number === SYS_WRITE) {
          assert.equal(event.args[0], 1n);
          session.space.addHook("fetch", 0n, 1n << 64n, (fetch) => void fetchesAfter.push(fetch.address));
          return { result: event.args[2] };
        }
        return undefined;
      });
      assert.equal(session.run(), "exit");
      assert.deepEqual(calls, [SYS_WRITE, 93]);
      assert.equal(output(), "", "the write was replaced");
      assert.equal(fetchesAfter.length, 3, "li a0, li a7, ecall after the write");
      assert.equal(session.hart.exitCode, 0);
    }));

  it("an observer sees the traffic the statistics see; runGuest takes a setup that attaches hooks", () =>
    withTempDir((folder) => {
      const path = join(folder, "fib.elf");
      writeFileSync(path, buildFibGuest(ITERATIONS));
      const observer = new TraceStats();
      let hookReads = 0;
      const result = runGuest(path, {
        write: () => undefined,
        collectStats: true,
        observer,
        // A fetch is one parcel read, or two for a 32-bit instruction, to the statistics.
        setup: (session) => void session.space.addHook(["read", "fetch"], 0n, 1n << 64n, (event) => void (hookReads += event.kind === "fetch" ? event.widthBytes / 2 : 1)),
      });
      assert.equal(result.stopReason, "exit");
      assert.deepEqual(observer.report(), result.stats);
      assert.equal(hookReads, result.stats!.reads);
    }));
});

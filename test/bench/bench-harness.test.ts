import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { childJob, runChild, runJsonProcess } from "../../bench/harness/child.js";
import { RoundSamples, roundSchedule } from "../../bench/harness/rounds.js";
import { withScratchFolder } from "../../bench/harness/scratch.js";
import { withTempDir } from "../helpers.js";

/** A child script: doubles its job's n, or fails with a line on stderr when asked to. */
const DOUBLING_CHILD = `
const job = JSON.parse(process.argv[3]);
if (process.argv[2] !== "--one") { console.error("not started as a child: " + process.argv[2]); process.exit(4); }
if (job.fail) { console.error("child broke: " + job.why); process.exit(3); }
console.log(JSON.stringify({ doubled: job.n * 2 }));
`;

describe("bench harness", () => {
  it("rounds: every contestant once a round; the warm-up round is not timed, and every other round runs in reverse", () => {
    const steps = [...roundSchedule(["a", "b", "c"], { rounds: 2, warmUp: true, alternate: true })].map(({ contestant, round, timed }) => `${contestant}${round}${timed ? "" : "w"}`);
    assert.deepEqual(steps, ["a-1w", "b-1w", "c-1w", "c0", "b0", "a0", "a1", "b1", "c1"]);
    const plain = [...roundSchedule(["a", "b"], { rounds: 2 })].map(({ contestant, round, timed }) => `${contestant}${round}${timed ? "" : "w"}`);
    assert.deepEqual(plain, ["a0", "b0", "a1", "b1"]);
    const alternating = [...roundSchedule(["a", "b"], { rounds: 2, alternate: true })].map(({ contestant }) => contestant);
    assert.deepEqual(alternating, ["a", "b", "b", "a"]);
  });

  it("round samples keep each key's samples in round order and give their median", () => {
    const samples = new RoundSamples<{ ms: number }>();
    for (const [key, ms] of [["x", 5], ["y", 1], ["x", 1], ["x", 3]] as const) samples.add(key, { ms });
    assert.deepEqual([...samples.byKey.keys()], ["x", "y"]);
    assert.deepEqual(samples.get("x").map((s) => s.ms), [5, 1, 3]);
    assert.equal(samples.median("x", (s) => s.ms), 3);
    assert.deepEqual(samples.get("z"), []);
    assert.equal(samples.has("z"), false);
  });

  it("a child runs its JSON job in a fresh process and its one result line comes back parsed; a failure carries the child's stderr", () => {
    withTempDir((folder) => {
      const script = join(folder, "child.mjs");
      writeFileSync(script, DOUBLING_CHILD);
      assert.deepEqual(runChild(pathToFileURL(script), { n: 21 }), { doubled: 42 });
      assert.throws(() => runChild(pathToFileURL(script), { fail: true, why: "no memory" }), /exited with 3:\nchild broke: no memory$/);
      const notJson = join(folder, "not-json.mjs");
      writeFileSync(notJson, `console.log("12 ns per pair");`);
      assert.throws(() => runJsonProcess(process.execPath, [notJson]), /printed "12 ns per pair", not one JSON line/);
    });
  });

  it("a child script reads its job only when started as a child", () => {
    assert.deepEqual(childJob(["node", "script.js", "--one", '{"n":1}']), { n: 1 });
    assert.equal(childJob(["node", "script.js", "--quick"]), undefined);
  });

  it("a scratch folder is gone after its use returns, throws or its promise settles", async () => {
    const kept: string[] = [];
    assert.equal(withScratchFolder("test", (folder) => (kept.push(folder), existsSync(folder))), true);
    assert.throws(() => withScratchFolder("test", (folder) => { kept.push(folder); throw new Error("boom"); }), /boom/);
    const pending = withScratchFolder("test", async (folder) => {
      kept.push(folder);
      await new Promise((resolve) => setTimeout(resolve, 1));
      return existsSync(folder);
    });
    assert.equal(existsSync(kept[2]), true, "still there while the promise is pending");
    assert.equal(await pending, true);
    assert.equal(kept.length, 3);
    for (const folder of kept) assert.equal(existsSync(folder), false, folder);
  });
});

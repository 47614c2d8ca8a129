import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { withTempDir } from "../helpers.js";

/** The compiled test lives in dist/test; the README and the built library relative to it. */
const here = fileURLToPath(new URL("..", import.meta.url));
const readmePath = join(here, "..", "..", "README.md");
const libraryUrl = pathToFileURL(join(here, "..", "src", "index.js")).href;

/** The README's ```js blocks, in order: the library examples. */
function readmeExamples(): string[] {
  const readme = readFileSync(readmePath, "utf8");
  return [...readme.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((match) => match[1]);
}

test("the README has its library examples, each importing memspace", () => {
  const examples = readmeExamples();
  assert.ok(examples.length >= 4, `expected at least 4 examples, found ${examples.length}`);
  for (const example of examples) assert.match(example, /from "memspace"/);
});

test("every README library example runs and its assertions hold", () => {
  withTempDir((dir) => {
    readmeExamples().forEach((example, index) => {
      const path = join(dir, `example-${index}.mjs`);
      writeFileSync(path, example.replaceAll('from "memspace"', `from ${JSON.stringify(libraryUrl)}`));
      try {
        execFileSync(process.execPath, [path], { stdio: "pipe" });
      } catch (error) {
        const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? "";
        assert.fail(`README example ${index + 1} failed:\n${example}\n${stderr}`);
      }
    });
  });
});

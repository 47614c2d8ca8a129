import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Extractor, ExtractorConfig } from "@microsoft/api-extractor";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const AREAS = ["space", "trace", "guest", "alloc", "persist"] as const;

describe("the public API", () => {
  it("matches its report, etc/memspace.api.md (after a deliberate change: npm run api:update, and commit the report)", () => {
    const config = ExtractorConfig.loadFileAndPrepare(join(REPO_ROOT, "api-extractor.json"));
    const problems: string[] = [];
    const result = Extractor.invoke(config, {
      localBuild: false,
      messageCallback: (message) => {
        // TSDoc style notes are not the report's business; anything API Extractor calls an error is.
        if (message.logLevel === "error") problems.push(message.text);
        message.handled = true;
      },
    });
    assert.deepEqual(problems, []);
    assert.equal(result.apiReportChanged, false, "the public API changed: review etc/memspace.api.md's diff after npm run api:update");
    assert.ok(result.succeeded);
  });

  it("memspace/AREA subpaths export parts of the root entry, and together all of it", async () => {
    const root = (await import(join(REPO_ROOT, "dist/src/index.js"))) as Record<string, unknown>;
    const covered = new Set<string>();
    for (const area of AREAS) {
      const module = (await import(join(REPO_ROOT, `dist/src/api/${area}.js`))) as Record<string, unknown>;
      for (const [name, value] of Object.entries(module)) {
        assert.equal(root[name], value, `${area}: ${name}`);
        assert.ok(!covered.has(name), `${name} is exported by two areas`);
        covered.add(name);
      }
    }
    assert.deepEqual([...covered].sort(), Object.keys(root).sort());
  });
});

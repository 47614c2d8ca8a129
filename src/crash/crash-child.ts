/**
 * Entry point of a crash-test child process: `node crash-child.js frames|image DIR SEED
 * DURABILITY`. It prints "ready" once it is working, then works until it is killed.
 */
import { runFramesChild } from "./frames-crash-test.js";
import { runImageChild } from "./image-crash-test.js";
import type { Durability } from "../durable/medium.js";

const [kind, dir, seedText, durability] = process.argv.slice(2);
const ready = (): void => {
  process.stdout.write("ready\n");
};
if (kind === "frames") runFramesChild(dir, Number(seedText), durability as Durability, ready);
else if (kind === "image") runImageChild(dir, Number(seedText), ready);
else throw new Error(`crash-child: unknown kind ${kind}`);

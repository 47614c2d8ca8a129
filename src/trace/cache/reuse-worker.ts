/**
 * A part worker of `trace reuse`: feeds a range of a v2 file's chunks to ReuseDistance made
 * for a part (parts.ts), and posts its part state for the merge (reuse-distance.ts).
 */
import { workerData } from "node:worker_threads";
import { feedPartRecords, type PartSetup } from "../parts.js";
import { ReuseDistance } from "./reuse-distance.js";

const setup = workerData as PartSetup;
const reuse = new ReuseDistance(setup.options as number, { part: true });
feedPartRecords(setup, reuse, () => reuse.partState());

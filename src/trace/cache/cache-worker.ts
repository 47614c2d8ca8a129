/**
 * A part worker of `trace cache`: feeds a range of a v2 file's chunks to a CachePart and posts
 * its state for the merge in order (cache-parts.ts).
 */
import { workerData } from "node:worker_threads";
import { feedPartRecords, type PartSetup } from "../parts.js";
import { CachePart } from "./cache-parts.js";
import type { CacheHierarchyOptions } from "./hierarchy.js";

const setup = workerData as PartSetup;
const part = new CachePart(setup.options as CacheHierarchyOptions);
feedPartRecords(setup, part, () => part.partState());

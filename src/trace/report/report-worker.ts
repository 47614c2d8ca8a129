/**
 * A part worker of `trace report`: feeds a range of a v2 file's chunks to a ReportCollector
 * made for a part (parts.ts), and posts its part state for the merge (collector.ts).
 */
import { workerData } from "node:worker_threads";
import { feedPartRecords, type PartSetup } from "../parts.js";
import { ReportCollector, type ReportCollectorOptions } from "./collector.js";

const setup = workerData as PartSetup;
const collector = new ReportCollector({ ...(setup.options as ReportCollectorOptions), firstOp: setup.firstOp, part: true });
feedPartRecords(setup, collector, () => collector.partState());

/**
 * References per page and per time bucket: the heat map's cells and the working set over
 * time. Time is the op index; a bucket holds `opsPerBucket` ops, counted from op 0. The
 * bucket count is fixed (`buckets`): when an op falls past the last bucket, adjacent buckets
 * are merged pairwise and `opsPerBucket` doubles, so the trace's length need not be known up
 * front (a pipe) and every bucket but the last always holds the same number of ops. Memory is
 * `buckets` counts per distinct page: it follows the footprint, not the trace's length.
 *
 * Buckets are numbered from op 0 of the whole trace, so the heat of disjoint op ranges (chunks
 * analysed apart) merges by bringing both to the coarser bucket width and adding cells.
 */
import { BlockCounter, type BlockCounterState } from "./block-counter.js";

/** A PageHeat as plain arrays: cells row by page id, `buckets` a row. */
export interface PageHeatState {
  buckets: number;
  opsPerBucket: number;
  bucket: number;
  bucketOps: Float64Array;
  pages: BlockCounterState;
  cells: Float64Array;
}

/** Page references by time bucket, for every page touched. */
export class PageHeat {
  /** References by page. */
  readonly pages: BlockCounter;
  /** Ops in each time bucket. */
  readonly bucketOps: Float64Array;
  /** Ops per bucket: a power of two, doubled whenever the ops outgrow the buckets. */
  opsPerBucket = 1;
  /** Row `id` (`buckets` counts from `id * buckets`): page `id`'s references by bucket. */
  private cells: Float64Array;
  /** The bucket of the op being counted, and the op that starts the next bucket. */
  private bucket = 0;
  private nextBucketOp = 1;

  /** Heat of `pageSizeBytes` pages in `buckets` time buckets (even, at least 2), from op `firstOp` on. */
  constructor(
    pageSizeBytes: number,
    readonly buckets: number,
    firstOp = 0,
  ) {
    if (!Number.isInteger(buckets) || buckets < 2 || buckets % 2 !== 0) throw new RangeError(`time buckets ${buckets} is not an even number of at least 2`);
    this.pages = new BlockCounter(pageSizeBytes);
    this.bucketOps = new Float64Array(buckets);
    this.cells = new Float64Array(this.pages.capacity * buckets);
    this.moveTo(firstOp);
  }

  /** Makes op `op` (no earlier than the last one started) the current one; its page references follow. */
  startOp(op: number): void {
    if (op >= this.nextBucketOp) this.moveTo(op);
    this.bucketOps[this.bucket]++;
  }

  /** One reference of the current op to page (pageLo, pageHi), the page number's two words. */
  touch(pageLo: number, pageHi: number): void {
    const id = this.pages.add(pageLo, pageHi, 1);
    if (id >= this.cells.length / this.buckets) this.widen();
    this.cells[id * this.buckets + this.bucket]++;
  }

  /** References of page `id` in bucket `bucket`. */
  cell(id: number, bucket: number): number {
    return this.cells[id * this.buckets + bucket];
  }

  /** How many buckets hold ops: the rest lie past the last op. */
  usedBuckets(): number {
    let used = this.buckets;
    while (used > 0 && this.bucketOps[used - 1] === 0) used--;
    return used;
  }

  /** Distinct pages touched in each bucket: the working set over time. */
  distinctPagesByBucket(): number[] {
    const distinct = new Array<number>(this.buckets).fill(0);
    for (let id = 0; id < this.pages.size; id++) {
      for (let bucket = 0; bucket < this.buckets; bucket++) if (this.cell(id, bucket) > 0) distinct[bucket]++;
    }
    return distinct;
  }

  /** The heat as plain arrays (structured-clonable: a worker posts it). */
  state(): PageHeatState {
    return { buckets: this.buckets, opsPerBucket: this.opsPerBucket, bucket: this.bucket, bucketOps: this.bucketOps.slice(), pages: this.pages.state(), cells: this.cells.slice(0, this.pages.size * this.buckets) };
  }

  /** Adds the heat of another's state (same page size and bucket count, a disjoint range of ops). */
  merge(other: PageHeatState): void {
    if (other.buckets !== this.buckets) throw new RangeError(`cannot merge ${other.buckets} time buckets into ${this.buckets}`);
    while (this.opsPerBucket < other.opsPerBucket) this.coarsen();
    const ratio = this.opsPerBucket / other.opsPerBucket;
    const ids = this.pages.merge(other.pages);
    if (this.pages.size > this.cells.length / this.buckets) this.widen();
    for (let bucket = 0; bucket < other.buckets; bucket++) this.bucketOps[Math.floor(bucket / ratio)] += other.bucketOps[bucket];
    for (let id = 0; id < ids.length; id++) {
      const row = ids[id] * this.buckets;
      for (let bucket = 0; bucket < other.buckets; bucket++) this.cells[row + Math.floor(bucket / ratio)] += other.cells[id * other.buckets + bucket];
    }
    const otherBucketOp = other.bucket * other.opsPerBucket;
    if (otherBucketOp > this.bucket * this.opsPerBucket) this.moveTo(otherBucketOp);
  }

  /** Makes the bucket holding `op` the current one (coarser buckets if it lies past the last), counting no op. */
  private moveTo(op: number): void {
    while (Math.floor(op / this.opsPerBucket) >= this.buckets) this.coarsen();
    this.bucket = Math.floor(op / this.opsPerBucket);
    this.nextBucketOp = (this.bucket + 1) * this.opsPerBucket;
  }

  /** Merges buckets 2i and 2i+1 into bucket i, everywhere; doubles opsPerBucket. */
  private coarsen(): void {
    const half = this.buckets / 2;
    const fold = (values: Float64Array, row: number): void => {
      for (let bucket = 0; bucket < half; bucket++) values[row + bucket] = values[row + 2 * bucket] + values[row + 2 * bucket + 1];
      values.fill(0, row + half, row + this.buckets);
    };
    fold(this.bucketOps, 0);
    for (let id = 0; id < this.pages.size; id++) fold(this.cells, id * this.buckets);
    this.opsPerBucket *= 2;
    this.bucket = Math.floor(this.bucket / 2);
    this.nextBucketOp = (this.bucket + 1) * this.opsPerBucket;
  }

  /** Room for a row per id the page counter can hold. */
  private widen(): void {
    const cells = new Float64Array(this.pages.capacity * this.buckets);
    cells.set(this.cells);
    this.cells = cells;
  }
}

import { TWO_POW_32 } from "../space/address.js";
import type { MemoryAccess } from "../space/backend.js";

/**
 * Running totals of one replay; the replay kernel adds to them once per slice. The checksum is
 * kept as two u32 halves in plain numbers: a BigInt here made TurboFan deoptimize the
 * replay loop at every call ("not a BigInt64"), which cost more than the loop itself.
 */
export class ReplayTally {
  /** Read records replayed so far. */
  reads = 0;
  /** Write records replayed so far. */
  writes = 0;
  /**
   * A slice's sums of value halves, handed over through a Float64Array: a float64 store is
   * their only use outside the loop, so TurboFan keeps them as doubles in registers. Passed
   * to a call, they were tagged values that every load converted from and boxed back.
   */
  readonly sliceSums = new Float64Array(2);
  private checksumLo = 0;
  private checksumHi = 0;
  /** `file` names the trace in error messages. */
  constructor(
    /** The trace, as error messages name it. */
    readonly file: string,
  ) {}

  /** Adds the slice sums (each below 2^53) to the wrapping u64 checksum. */
  addSliceSums(): void {
    const sumLo = this.sliceSums[0];
    const sumHi = this.sliceSums[1];
    const low = this.checksumLo + sumLo;
    const carry = Math.floor(low / TWO_POW_32);
    this.checksumLo = low - carry * TWO_POW_32;
    this.checksumHi = (this.checksumHi + (sumHi % TWO_POW_32) + carry) % TWO_POW_32;
  }

  /**
   * A v2 kernel's slice is done: its loads and stores go to the sink's counters and the
   * totals, its low value sum (the high one is in sliceSums[1] already) to the checksum.
   */
  closeSlice(sink: MemoryAccess, loads: number, stores: number, sumLo: number): void {
    sink.countAccesses(loads, stores);
    this.reads += loads;
    this.writes += stores;
    this.sliceSums[0] += sumLo;
    this.addSliceSums();
    this.sliceSums[0] = 0;
    this.sliceSums[1] = 0;
  }

  /** Wrapping u64 sum of every value read so far. */
  get checksum(): bigint {
    return (BigInt(this.checksumHi) << 32n) | BigInt(this.checksumLo);
  }
}

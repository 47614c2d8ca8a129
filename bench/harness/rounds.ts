/**
 * Rounds: every contestant measured once a round, the rounds one after another, so that a
 * slow spell of this shared machine (it switches between a fast and a slow speed every few
 * seconds) hits them alike; figures are medians over rounds, and a ratio of two contestants
 * is taken within each round, then its median over rounds (roundRatios).
 */
import { formatRoundRatios, median, medianRatio, roundRatios } from "../../src/util/median.js";

export { formatRoundRatios, median, medianRatio, roundRatios };

export interface RoundPlan {
  /** Timed rounds. */
  rounds: number;
  /** A round before them, measured but not kept (page cache, disk, JIT of the parent). */
  warmUp?: boolean;
  /** Every other round in reverse, so a contestant is not always the one after another. */
  alternate?: boolean;
}

/** One measurement of the plan: `contestant` in `round` (counting timed rounds from 0; the warm-up round is -1), `timed` unless in the warm-up. */
export interface RoundStep<C> {
  contestant: C;
  round: number;
  timed: boolean;
}

/** The measurements of `plan` in order: each round every contestant once, interleaved. */
export function* roundSchedule<C>(contestants: readonly C[], plan: RoundPlan): Generator<RoundStep<C>> {
  const first = plan.warmUp === true ? 0 : 1;
  for (let round = first; round <= plan.rounds; round++) {
    const order = plan.alternate === true && round % 2 === 1 - first ? [...contestants].reverse() : contestants;
    for (const contestant of order) yield { contestant, round: round - 1, timed: round > 0 };
  }
}

/** Each contestant's samples, round by round, in the order contestants first came. */
export class RoundSamples<S> {
  readonly byKey = new Map<string, S[]>();

  add(key: string, sample: S): void {
    const list = this.byKey.get(key);
    if (list === undefined) this.byKey.set(key, [sample]);
    else list.push(sample);
  }

  /** The samples of `key` (none if it never ran). */
  get(key: string): S[] {
    return this.byKey.get(key) ?? [];
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /** The median over rounds of `figure` of `key`'s samples. */
  median(key: string, figure: (sample: S) => number): number {
    return median(this.get(key).map(figure));
  }
}

/** Per-round ratios as a JSON document gives them: their median and range. */
export interface RoundRatioFigures {
  median: number;
  min: number;
  max: number;
}

export function ratioFigures(ratios: number[] | null): RoundRatioFigures | null {
  return ratios === null ? null : { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) };
}

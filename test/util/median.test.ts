import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatRoundRatios, median, medianRatio, roundRatios } from "../../src/util/median.js";

describe("median and medianRatio (the benches' figures)", () => {
  it("median takes the middle value, or the mean of the middle two", () => {
    assert.equal(median([5, 1, 3]), 3);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([7]), 7);
  });

  it("medianRatio is the median of each round's ratio, not the ratio of the medians", () => {
    // Round by round B takes half of A's time, though the machine's speed varies 4x.
    const a = [10, 40, 12, 44, 11];
    const b = [5, 20, 6, 22, 5.5];
    assert.equal(medianRatio(b, a), 0.5);
    // The ratio of medians would say otherwise here: a slow round for A, a fast one for B.
    assert.notEqual(median([5, 20, 6]) / median([40, 10, 44]), medianRatio([5, 20, 6], [40, 10, 44]));
    assert.equal(medianRatio([5, 20, 6], [40, 10, 44]), 6 / 44);
  });

  it("medianRatio refuses lists of different lengths", () => {
    assert.throws(() => medianRatio([1, 2], [1]), /2 numerators, 1 denominators/);
  });

  it("formatRoundRatios shows the median of the rounds' ratios and their range", () => {
    const ratios = roundRatios([12, 9, 30], [10, 10, 20]);
    assert.deepEqual(ratios, [1.2, 0.9, 1.5]);
    assert.equal(formatRoundRatios(ratios), "1.20 (0.90-1.50)");
    // One round, or rounds that agree to two places, have no range to show.
    assert.equal(formatRoundRatios([1.234]), "1.23");
    assert.equal(formatRoundRatios([1, 1, 1]), "1.00");
  });
});

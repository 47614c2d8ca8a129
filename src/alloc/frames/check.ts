import { Geometry } from "./geometry.js";
import { type FrameLayout, MAX_WORKERS } from "./layout.js";
import { ChildWord, pairPartner } from "./lower/child-word.js";
import { childFrameCount, corrupt, runFieldWord } from "./lower/children.js";
import { auditChild } from "./lower/run-field.js";
import { pendingWordOf, TreeLine, treeLineWord, WorkerLine, workerLineWord } from "./upper/trees.js";

/**
 * Verifies an allocator's state, while no worker is inside get or put: every child's frame
 * states form aligned power-of-two runs and its counter equals its free frames (0 for a huge
 * frame, whose frames are all unmarked; pairs flagged on both children), and each tree
 * counter (plus every worker's pending credits for it, and the budget of the worker that
 * reserved it) is the sum of its children's. Throws naming the first violation.
 */
export function checkAllocator(words: Int32Array, layout: FrameLayout): void {
  for (let tree = 0; tree < layout.treeCount; tree++) {
    let treeFree = 0;
    for (let c = tree * Geometry.ChildrenPerTree; c < (tree + 1) * Geometry.ChildrenPerTree; c++) {
      const word = words[layout.childrenWord + c];
      const firstFrame = c * Geometry.FramesPerChild;
      const where = `child ${c} (frames ${firstFrame}-${firstFrame + Geometry.FramesPerChild - 1})`;
      const audit = auditChild(words, runFieldWord(layout.blocksWord, c), childFrameCount(layout.frameCount, c));
      if (audit.problem !== null) corrupt(`${where}: ${audit.problem}`);
      if ((word & ChildWord.Huge) !== 0) {
        if ((word & ChildWord.FreeMask) !== 0 || audit.freeFrames !== Geometry.FramesPerChild) corrupt(`${where}: huge, yet counter ${word & ChildWord.FreeMask} and ${Geometry.FramesPerChild - audit.freeFrames} frames marked`);
        if ((word & ChildWord.Pair) !== 0 && words[layout.childrenWord + pairPartner(c)] !== word) corrupt(`${where}: half of an order-10 pair whose other half is not`);
        continue;
      }
      if ((word & ChildWord.Pair) !== 0) corrupt(`${where}: pair flag without the huge flag`);
      if (word !== audit.freeFrames) corrupt(`${where}: counter ${word}, free frames ${audit.freeFrames}`);
      treeFree += word;
    }
    let counter = words[treeLineWord(layout.treesWord, tree) + TreeLine.Free];
    for (let worker = 0; worker < MAX_WORKERS; worker++) counter += words[pendingWordOf(layout, worker) + tree];
    const owner = words[treeLineWord(layout.treesWord, tree) + TreeLine.Owner] - 1;
    const ownerLine = workerLineWord(layout.workersWord, owner);
    const budget = owner >= 0 ? words[ownerLine + WorkerLine.Budget] : 0;
    if (owner >= 0 && words[ownerLine + WorkerLine.Tree] !== tree + 1) corrupt(`tree ${tree}: reserved by worker ${owner}, whose line names tree ${words[ownerLine + WorkerLine.Tree] - 1}`);
    if (counter + budget !== treeFree) corrupt(`tree ${tree}: counter ${counter}${owner >= 0 ? ` + worker ${owner}'s budget ${budget}` : ""}, children hold ${treeFree} free`);
  }
}

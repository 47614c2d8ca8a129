/**
 * Remote frees (as in mimalloc): a block freed by a worker that does not own its span goes
 * onto the owner's inbox (or the orphan inbox, for a span nobody owns), an atomic intrusive
 * list; the owner drains its inbox when a class runs out of room, and the lock holder drains
 * the lists nobody else does. No lock on the push: a free never waits for another worker.
 */
import { Geometry, HeaderWord, NO_OWNER, WORKER_WORDS, WorkerWord } from "./heap-layout.js";
import { Spans } from "./spans.js";

/** The seventh layer of a heap core: the inboxes of blocks freed by other workers. */
export abstract class RemoteFrees extends Spans {
  /** A block of another worker's span (or of an unowned one) onto that worker's inbox (or the orphan inbox). */
  protected pushRemote(address: number, owner: number): void {
    this.pushAtomic(owner === NO_OWNER ? HeaderWord.OrphanInbox : HeaderWord.Workers + owner * WORKER_WORDS + WorkerWord.Inbox, address);
  }

  /** Pushes a block onto the atomic list at `listWord` (its link in the block's first word). */
  protected pushAtomic(listWord: number, address: number): void {
    const words = this.words;
    for (;;) {
      const head = Atomics.load(words, listWord);
      this.setLink(address, head);
      if (Atomics.compareExchange(words, listWord, head, address) === head) return;
    }
  }

  /** Blocks other workers freed into this worker's spans go back into their free lists (no lock). */
  protected drainOwnInbox(): void {
    let address = Atomics.exchange(this.words, this.workerWord + WorkerWord.Inbox, Geometry.Null);
    while (address !== Geometry.Null) {
      const next = this.link(address);
      const span = this.blockHead(address);
      // Pushed while the span belonged to this slot's previous worker, which detached since.
      if (this.ownerOf(span) === this.workerId) this.returnBlock(address, span);
      else this.pushAtomic(HeaderWord.OrphanInbox, address);
      address = next;
    }
  }

  /** Routes the blocks of a list nobody else drains (the caller holds the lock): into unowned spans, or on to their owner's inbox. */
  protected drainLocked(listWord: number): void {
    let address = Atomics.exchange(this.words, listWord, Geometry.Null);
    while (address !== Geometry.Null) {
      const next = this.link(address);
      const span = this.blockHead(address);
      const owner = this.ownerOf(span);
      if (owner === NO_OWNER || owner === this.workerId) this.returnBlock(address, span);
      else this.pushRemote(address, owner);
      address = next;
    }
  }

  /** Drains the orphan inbox (the caller holds the lock). */
  protected drainOrphans(): void {
    if (this.shared && Atomics.load(this.words, HeaderWord.OrphanInbox) !== Geometry.Null) this.drainLocked(HeaderWord.OrphanInbox);
  }
}

// The receive side's sliding window over message counters (RFC 6479): a ring of bit
// blocks, so accepting a counter far ahead clears only the blocks it skips instead of
// shifting the whole bitmap. A counter is accepted once, and only when it is newer than
// the window's oldest (the highest seen minus WINDOW_SIZE); WireGuard lets packets
// arrive reordered within the window (paper, section 5.4.6).

const BLOCK_BITS = 32;
const BLOCK_SHIFT = 5;
const RING_BLOCKS = 64; // 2048 bits
const RING_MASK = RING_BLOCKS - 1;
/** Counters this far behind the highest accepted one are still accepted once. */
export const WINDOW_SIZE = (RING_BLOCKS - 1) * BLOCK_BITS; // 2016
/** Counters at or above this are refused: past REJECT_AFTER_MESSAGES no key is used, and a number holds counters exactly only below 2^53. */
export const COUNTER_LIMIT = 2 ** 53;

export class ReplayWindow {
  private readonly ring = new Uint32Array(RING_BLOCKS);
  /** Highest counter accepted so far, -1 before the first. */
  private last = -1;

  /** Forgets every counter (a new key starts a new window). */
  reset(): void {
    this.ring.fill(0);
    this.last = -1;
  }

  /** True when `counter` could be accepted (a cheap check before spending time to authenticate). */
  mayAccept(counter: number): boolean {
    if (counter >= COUNTER_LIMIT) return false;
    if (counter > this.last) return true;
    if (counter + WINDOW_SIZE <= this.last) return false;
    const block = Math.floor(counter / BLOCK_BITS) & RING_MASK;
    return (this.ring[block] & (1 << (counter & (BLOCK_BITS - 1)))) === 0;
  }

  /**
   * Records `counter` of an authenticated message. Returns false, recording nothing,
   * when it was already seen or has fallen out of the window (a replay, or too late).
   */
  accept(counter: number): boolean {
    if (!this.mayAccept(counter)) return false;
    const index = Math.floor(counter / BLOCK_BITS);
    if (counter > this.last) {
      const lastIndex = this.last < 0 ? -1 : Math.floor(this.last / BLOCK_BITS);
      // Clear the blocks between the old head and the new one (at most the whole ring).
      const clear = Math.min(index - lastIndex, RING_BLOCKS);
      for (let i = 1; i <= clear; i++) this.ring[(lastIndex + i) & RING_MASK] = 0;
      this.last = counter;
    }
    this.ring[index & RING_MASK] |= 1 << (counter & (BLOCK_BITS - 1));
    return true;
  }
}

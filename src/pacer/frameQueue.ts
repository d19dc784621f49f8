/**
 * The pacer's queue of ready frames, kept as parallel arrays of numbers and references (a frame is a range of a
 * batch's byte buffer), not one object per frame: with 1000 streams and 400 ms buffered, 20 000 frame objects would
 * survive every young-generation collection of the pacer thread and make each one a pause of several milliseconds.
 */

/** A FIFO of frames `(bytes, start, end, samples, tag)`. */
export class FrameQueue<T> {
  #buf: Uint8Array[] = [];
  #start: number[] = [];
  #end: number[] = [];
  #samples: number[] = [];
  #tag: T[] = [];
  #head = 0;

  /** Frames queued. */
  get length(): number {
    return this.#buf.length - this.#head;
  }

  /** Appends `bytes[start .. end - 1]` lasting `samples` 48 kHz samples, tagged `tag`. */
  push(bytes: Uint8Array, start: number, end: number, samples: number, tag: T): void {
    this.#buf.push(bytes);
    this.#start.push(start);
    this.#end.push(end);
    this.#samples.push(samples);
    this.#tag.push(tag);
  }

  /** The first frame's tag (undefined when empty). */
  get headTag(): T | undefined {
    return this.#head < this.#buf.length ? this.#tag[this.#head] : undefined;
  }

  /** The first frame's payload length in bytes. */
  get headBytes(): number {
    return (this.#end[this.#head] as number) - (this.#start[this.#head] as number);
  }

  /** The first frame's duration in 48 kHz samples. */
  get headSamples(): number {
    return this.#samples[this.#head] as number;
  }

  /** The first frame's payload, as a view (no copy). */
  headPayload(): Uint8Array {
    return (this.#buf[this.#head] as Uint8Array).subarray(this.#start[this.#head], this.#end[this.#head]);
  }

  /** Drops the first frame. */
  shift(): void {
    this.#head++;
    if (this.#head === this.#buf.length) {
      this.clear();
    } else if (this.#head > 256 && this.#head * 2 > this.#buf.length) {
      this.#compact();
    }
  }

  /**
   * Keeps, in order, the frames for which `keep(tag)` is true (called once per frame, first to last).
   *
   * @returns how many were dropped.
   */
  retain(keep: (tag: T) => boolean): number {
    const n = this.#buf.length;
    let w = this.#head;
    for (let r = this.#head; r < n; r++) {
      if (!keep(this.#tag[r] as T)) continue;
      if (w !== r) {
        this.#buf[w] = this.#buf[r] as Uint8Array;
        this.#start[w] = this.#start[r] as number;
        this.#end[w] = this.#end[r] as number;
        this.#samples[w] = this.#samples[r] as number;
        this.#tag[w] = this.#tag[r] as T;
      }
      w++;
    }
    const dropped = n - w;
    this.#buf.length = w;
    this.#start.length = w;
    this.#end.length = w;
    this.#samples.length = w;
    this.#tag.length = w;
    if (this.#head === w) this.clear();
    return dropped;
  }

  /** Empties the queue. */
  clear(): void {
    this.#buf = [];
    this.#start = [];
    this.#end = [];
    this.#samples = [];
    this.#tag = [];
    this.#head = 0;
  }

  #compact(): void {
    const h = this.#head;
    this.#buf = this.#buf.slice(h);
    this.#start = this.#start.slice(h);
    this.#end = this.#end.slice(h);
    this.#samples = this.#samples.slice(h);
    this.#tag = this.#tag.slice(h);
    this.#head = 0;
  }
}

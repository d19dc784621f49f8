/**
 * Track inputs: a file path, an http(s) URL, bytes in memory, a Node Readable or any AsyncIterable of bytes, all
 * turned into one pull-based {@link ByteReader}. Nothing is read before it is asked for, so a two-hour file or an
 * endless stream costs a few chunks of memory, and a slow consumer slows the download (backpressure).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { KookRtpError, isKookRtpError } from '../errors.js';

/** Anything a track can be opened from. A string is a URL when it starts with http:// or https://, else a path. */
export type TrackInput = string | URL | Uint8Array | NodeJS.ReadableStream | AsyncIterable<Uint8Array | string>;

/** Options for {@link openInput}. */
export interface InputOptions {
  /** Cancels reading: pending and later reads reject with `ABORTED`. */
  readonly signal?: AbortSignal | undefined;
  /** A URL download that delivers no byte for this long fails with `FETCH_STALLED`. Default 10000. */
  readonly stallTimeoutMs?: number | undefined;
  /** Read size for files and split size for in-memory input. Default 64 KiB. */
  readonly chunkSize?: number | undefined;
}

/** Where the bytes come from, for messages and for deciding what is cheap (a file can read its tail). */
export type InputKind = 'file' | 'url' | 'buffer' | 'stream';

const DEFAULT_CHUNK = 64 * 1024;

/**
 * A pull-based byte reader with a small look-ahead buffer for probing.
 *
 * All methods are sequential: do not call one before the previous promise settles.
 */
export class ByteReader {
  /** Bytes consumed so far (not counting peeked bytes). */
  position = 0;
  private queue: Uint8Array[] = [];
  private queued = 0;
  private done = false;
  private closed = false;

  /**
   * @param kind - what the input is.
   * @param description - a path or URL for messages (no credentials: URLs are shown without user info or query).
   * @param size - total size in bytes when known (file size, Content-Length).
   * @param source - the chunk iterator.
   * @param rangeReader - random access (`n` bytes from `position`), when cheap (files and buffers).
   * @param signal - cancels reads.
   * @param onClose - releases the underlying resource.
   */
  constructor(
    readonly kind: InputKind,
    readonly description: string,
    readonly size: number | undefined,
    private readonly source: AsyncIterator<Uint8Array>,
    private readonly rangeReader: ((position: number, n: number) => Promise<Uint8Array>) | undefined,
    private readonly signal: AbortSignal | undefined,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {}

  /** True when any bytes, the last ones included, can be read without reading the rest (files, buffers). */
  get canReadTail(): boolean {
    return this.rangeReader !== undefined && this.size !== undefined;
  }

  /** Reads the last `n` bytes (fewer when the input is shorter) without moving {@link position}. */
  async readTail(n: number): Promise<Uint8Array> {
    const size = this.size;
    if (size === undefined) throw new KookRtpError('INVALID_ARGUMENT', `cannot read the tail of a ${this.kind} input`);
    const len = Math.min(n, size);
    return this.readAt(size - len, len);
  }

  /**
   * Reads up to `n` bytes from `position` (fewer at the end of the input) without moving {@link position}: a second
   * look at the whole input (probing a file's every packet) that leaves the stream being decoded where it is.
   * @throws {@link KookRtpError} `INVALID_ARGUMENT` when the input has no random access (see {@link canReadTail}).
   */
  async readAt(position: number, n: number): Promise<Uint8Array> {
    if (!this.rangeReader || this.size === undefined) throw new KookRtpError('INVALID_ARGUMENT', `cannot read at an offset of a ${this.kind} input`);
    throwIfAborted(this.signal);
    const from = Math.max(0, Math.min(position, this.size));
    return this.rangeReader(from, Math.max(0, Math.min(n, this.size - from)));
  }

  /** Buffered bytes not consumed yet. */
  get buffered(): number {
    return this.queued;
  }

  private async pull(): Promise<boolean> {
    if (this.done) return false;
    throwIfAborted(this.signal);
    let r: IteratorResult<Uint8Array>;
    try {
      r = await raceAbort(this.source.next(), this.signal);
    } catch (err) {
      this.done = true;
      throw toKookError(err, this.description);
    }
    if (r.done) {
      this.done = true;
      return false;
    }
    if (r.value.length > 0) {
      this.queue.push(r.value);
      this.queued += r.value.length;
    }
    return true;
  }

  /**
   * Returns up to `n` bytes without consuming them (fewer only at the end of input).
   * Peeking far ahead buffers that much: keep `n` small (probing uses at most a few hundred KiB).
   */
  async peek(n: number): Promise<Uint8Array> {
    while (this.queued < n && (await this.pull()));
    return this.head(Math.min(n, this.queued), false);
  }

  /** Consumes and returns up to `n` bytes (fewer only at the end of input). */
  async read(n: number): Promise<Uint8Array> {
    while (this.queued < n && (await this.pull()));
    const out = this.head(Math.min(n, this.queued), true);
    return out;
  }

  /** Discards up to `n` bytes without buffering them. @returns how many were skipped. */
  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      if (this.queued === 0 && !(await this.pull())) break;
      const first = this.queue[0]!;
      const take = Math.min(left, first.length);
      this.consumeFirst(take);
      left -= take;
    }
    return n - left;
  }

  /** Consumes and returns the next chunk of whatever size is available, or null at the end. */
  async chunk(): Promise<Uint8Array | null> {
    if (this.queued === 0 && !(await this.pull())) return null;
    if (this.queued === 0) return this.chunk();
    const first = this.queue.shift()!;
    this.queued -= first.length;
    this.position += first.length;
    return first;
  }

  /** Releases the input (closes the file, aborts the download). Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.done = true;
    this.queue = [];
    this.queued = 0;
    try {
      await this.source.return?.();
    } catch {
      // the source is being discarded; a failure to close it cleanly changes nothing for the caller
    }
    await this.onClose();
  }

  private consumeFirst(n: number): void {
    const first = this.queue[0]!;
    if (n === first.length) this.queue.shift();
    else this.queue[0] = first.subarray(n);
    this.queued -= n;
    this.position += n;
  }

  private head(n: number, consume: boolean): Uint8Array {
    if (n === 0) return new Uint8Array(0);
    const first = this.queue[0]!;
    let out: Uint8Array;
    if (first.length >= n) out = first.subarray(0, n);
    else {
      // Merge the queue's head so later peeks are cheap.
      out = new Uint8Array(n);
      let o = 0;
      while (o < n) {
        const c = this.queue[0]!;
        const take = Math.min(c.length, n - o);
        out.set(c.subarray(0, take), o);
        o += take;
        if (take === c.length) this.queue.shift();
        else this.queue[0] = c.subarray(take);
      }
      this.queue.unshift(out);
    }
    if (consume) this.consumeFirst(n);
    return out;
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new KookRtpError('ABORTED', 'reading the input was aborted', { cause: signal.reason });
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new KookRtpError('ABORTED', 'reading the input was aborted', { cause: signal.reason }));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function toKookError(err: unknown, description: string): KookRtpError {
  if (isKookRtpError(err)) return err;
  const e = err as { name?: string; message?: string; code?: string } | undefined;
  if (e?.name === 'AbortError') return new KookRtpError('ABORTED', `reading ${description} was aborted`, { cause: err });
  return new KookRtpError('INVALID_INPUT', `reading ${description} failed: ${e?.message ?? String(err)}`, { cause: err });
}

/** A URL for messages: no credentials, no query string (it may carry a token). */
export function redactUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

function isAsyncIterable(x: unknown): x is AsyncIterable<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

async function* splitBuffer(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < bytes.length; o += size) yield bytes.subarray(o, o + size);
}

async function* normalizeChunks(it: AsyncIterable<unknown>): AsyncGenerator<Uint8Array> {
  for await (const c of it) {
    if (c instanceof Uint8Array) yield c;
    else if (typeof c === 'string') yield Buffer.from(c, 'latin1');
    else throw new KookRtpError('INVALID_INPUT', `input stream yielded a ${typeof c}, expected Uint8Array chunks`);
  }
}

async function openFile(path: string, options: InputOptions): Promise<ByteReader> {
  let fh: FileHandle;
  let size: number;
  try {
    fh = await open(path, 'r');
    const st = await fh.stat();
    if (!st.isFile()) {
      await fh.close();
      throw new KookRtpError('INVALID_INPUT', `${path} is not a regular file`);
    }
    size = st.size;
  } catch (err) {
    if (isKookRtpError(err)) throw err;
    const code = (err as { code?: string }).code;
    const what = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable' : `cannot be opened (${code ?? String(err)})`;
    throw new KookRtpError('INVALID_INPUT', `input file ${path} ${what}: pass an existing audio file, URL, buffer or stream`, { cause: err });
  }
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK;
  let pos = 0;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    while (pos < size) {
      // A fresh buffer per read: frames handed downstream may still reference the previous one.
      const buf = new Uint8Array(Math.min(chunkSize, size - pos));
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) return;
      pos += bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  }
  const range = async (position: number, n: number): Promise<Uint8Array> => {
    const buf = new Uint8Array(n);
    const { bytesRead } = await fh.read(buf, 0, n, position);
    return buf.subarray(0, bytesRead);
  };
  let closed = false;
  return new ByteReader('file', path, size, chunks(), range, options.signal, async () => {
    if (closed) return;
    closed = true;
    await fh.close();
  });
}

async function openUrl(url: URL, options: InputOptions): Promise<ByteReader> {
  const name = redactUrl(url);
  const stallMs = options.stallTimeoutMs ?? 10_000;
  const ctl = new AbortController();
  const onUserAbort = (): void => ctl.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onUserAbort, { once: true });
  const cleanup = (): void => options.signal?.removeEventListener('abort', onUserAbort);
  let stalled = false;
  const withStall = async <T>(p: Promise<T>, what: string): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        p,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            stalled = true;
            ctl.abort();
            reject(new KookRtpError('FETCH_STALLED', `${name}: no data for ${stallMs} ms while ${what}; check the server or raise stallTimeoutMs`));
          }, stallMs);
        }),
      ]);
    } catch (err) {
      if (stalled) throw new KookRtpError('FETCH_STALLED', `${name}: no data for ${stallMs} ms while ${what}; check the server or raise stallTimeoutMs`);
      if (options.signal?.aborted) throw new KookRtpError('ABORTED', `download of ${name} was aborted`, { cause: options.signal.reason });
      if (isKookRtpError(err)) throw err;
      throw new KookRtpError('FETCH_FAILED', `${name}: ${what} failed: ${(err as Error).message ?? String(err)}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  };
  let res: Response;
  try {
    throwIfAborted(options.signal);
    res = await withStall(fetch(url, { signal: ctl.signal, redirect: 'follow' }), 'waiting for the response headers');
  } catch (err) {
    cleanup();
    throw err;
  }
  if (!res.ok || !res.body) {
    cleanup();
    ctl.abort();
    throw new KookRtpError('FETCH_FAILED', `${name} answered HTTP ${res.status} ${res.statusText}: expected 200 with the audio file`);
  }
  const len = Number(res.headers.get('content-length') ?? NaN);
  const reader = res.body.getReader();
  async function* chunks(): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        const r = await withStall(reader.read(), 'downloading');
        if (r.done) return;
        yield r.value;
      }
    } finally {
      cleanup();
    }
  }
  return new ByteReader('url', name, Number.isFinite(len) && !res.headers.get('content-encoding') ? len : undefined, chunks(), undefined, options.signal, async () => {
    cleanup();
    ctl.abort();
    reader.releaseLock?.();
  });
}

/**
 * Opens any {@link TrackInput} as a {@link ByteReader}. Opening a file checks it exists; opening a URL waits for
 * the response headers (so a 404 fails here); nothing else is read yet.
 *
 * @param input - a path, an http(s) URL (string or URL), bytes, a Node Readable, or an AsyncIterable of bytes.
 * @param options - cancellation, stall timeout and chunk size.
 * @returns the reader; close it when done.
 * @throws {@link KookRtpError} `INVALID_INPUT` (missing file, unsupported input type), `FETCH_FAILED` (HTTP error,
 *   network failure), `FETCH_STALLED` (no headers within the stall timeout), `ABORTED`.
 */
export async function openInput(input: TrackInput, options: InputOptions = {}): Promise<ByteReader> {
  throwIfAborted(options.signal);
  if (input instanceof URL || (typeof input === 'string' && /^https?:\/\//i.test(input))) {
    let url: URL;
    try {
      url = input instanceof URL ? input : new URL(input);
    } catch (err) {
      throw new KookRtpError('INVALID_INPUT', `not a valid URL: ${String(input).slice(0, 200)}`, { cause: err });
    }
    if (url.protocol === 'file:') return openFile(decodeURIComponent(url.pathname), options);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new KookRtpError('INVALID_INPUT', `unsupported URL scheme ${url.protocol}: use http(s) or a file path`);
    }
    return openUrl(url, options);
  }
  if (typeof input === 'string') return openFile(input, options);
  if (input instanceof Uint8Array) {
    const bytes = input;
    return new ByteReader('buffer', `${bytes.length}-byte buffer`, bytes.length, splitBuffer(bytes, options.chunkSize ?? DEFAULT_CHUNK), async (position, n) => bytes.subarray(position, position + n), options.signal);
  }
  if (isAsyncIterable(input)) {
    const it = input as AsyncIterable<unknown>;
    const destroy = (it as { destroy?: () => void }).destroy;
    return new ByteReader('stream', 'stream', undefined, normalizeChunks(it), undefined, options.signal, async () => {
      if (typeof destroy === 'function') destroy.call(it);
    });
  }
  throw new KookRtpError('INVALID_INPUT', `unsupported input of type ${typeof input}: pass a path, URL, Uint8Array, Readable or AsyncIterable`);
}

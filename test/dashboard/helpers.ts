/**
 * Helpers for the dashboard tests: plain HTTP requests with any Host header and any method, a Server-Sent Events
 * reader, and a strict check of the Prometheus text exposition format.
 */
import { request } from 'node:http';

/** An HTTP answer. */
export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One request through node:http (fetch may not set Host). */
export function http(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers ?? {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** A Server-Sent Events message. */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
}

/** Reads /events; `events` fills as they arrive. */
export interface SseReader {
  readonly status: Promise<number>;
  readonly events: SseEvent[];
  /** Resolves once `count` events named `name` have arrived. */
  waitFor(name: string, count: number, timeoutMs?: number): Promise<SseEvent[]>;
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

/** Opens an event stream. */
export function readEvents(url: string, headers: Record<string, string> = {}): SseReader {
  const events: SseEvent[] = [];
  let buffer = '';
  let waiters: (() => void)[] = [];
  let endResolve!: () => void;
  const ended = new Promise<void>((r) => (endResolve = r));
  let statusResolve!: (n: number) => void;
  const status = new Promise<number>((r) => (statusResolve = r));
  const req = request(url, { headers }, (res) => {
    statusResolve(res.statusCode ?? 0);
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let i: number;
      while ((i = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) event = line.slice(7);
          else if (line.startsWith('data: ')) data.push(line.slice(6));
        }
        if (data.length > 0) events.push({ event, data: data.join('\n') });
      }
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    });
    res.on('end', () => endResolve());
    res.on('close', () => endResolve());
  });
  req.on('error', () => {
    statusResolve(0);
    endResolve();
  });
  req.end();
  return {
    status,
    events,
    ended,
    async waitFor(name, count, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const got = events.filter((e) => e.event === name);
        if (got.length >= count) return got;
        if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${count} "${name}" events, got ${got.length}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
    },
    close: () => req.destroy(),
  };
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\\\|\\"|\\n)*"$/;
const VALUE = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)$/;

/**
 * A strict line-by-line check of the Prometheus text exposition format 0.0.4: HELP and TYPE comments, samples
 * `name{label="value",...} value`, each metric family's samples after its TYPE line and named after it.
 * @returns the problems found (empty when the text is valid).
 */
export function checkExposition(text: string): string[] {
  const problems: string[] = [];
  if (!text.endsWith('\n')) problems.push('the text does not end with a newline');
  const typed = new Map<string, string>();
  let family: string | undefined;
  const lines = text.split('\n');
  lines.forEach((line, n) => {
    if (line === '') return;
    const where = `line ${n + 1}: ${line.slice(0, 80)}`;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (m === null) return; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!METRIC_NAME.test(name)) problems.push(`${where}: bad metric name`);
      if (kind === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) problems.push(`${where}: bad type`);
        if (typed.has(name)) problems.push(`${where}: TYPE given twice`);
        typed.set(name, rest);
        family = name;
      }
      return;
    }
    const m = /^([^\s{]+)(\{(.*)\})? (\S+)( -?\d+)?$/.exec(line);
    if (m === null) {
      problems.push(`${where}: not a sample line`);
      return;
    }
    const [, name, , labels, value] = m as unknown as [string, string, string | undefined, string | undefined, string];
    if (!METRIC_NAME.test(name)) problems.push(`${where}: bad metric name`);
    if (!VALUE.test(value)) problems.push(`${where}: bad value`);
    if (labels !== undefined && labels !== '') {
      const seen = new Set<string>();
      for (const l of splitLabels(labels)) {
        if (!LABEL.test(l)) problems.push(`${where}: bad label ${l}`);
        const key = l.slice(0, l.indexOf('='));
        if (seen.has(key)) problems.push(`${where}: label ${key} twice`);
        seen.add(key);
      }
    }
    const type = family === undefined ? undefined : typed.get(family);
    const suffixes = type === 'summary' ? ['', '_sum', '_count'] : type === 'histogram' ? ['_bucket', '_sum', '_count'] : [''];
    if (family === undefined || !suffixes.some((s) => name === family + s)) problems.push(`${where}: sample outside its family (${family ?? 'none'})`);
  });
  return problems;
}

function splitLabels(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && quoted) {
      cur += c + (s[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  if (cur !== '') out.push(cur);
  return out;
}

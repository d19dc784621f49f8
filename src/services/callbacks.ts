/**
 * Parsers for the three services' callback payloads: pure functions from a JSON value to a typed event.
 */
import { num, str } from './http.js';
import { isPlainObject } from '../util/object.js';

/** Shumei's and our normalised risk level. */
export type RiskLevel = 'PASS' | 'REVIEW' | 'REJECT';

const LEVELS: readonly string[] = ['PASS', 'REVIEW', 'REJECT'];

/** A parsed Shumei callback. */
export interface ShumeiCallbackEvent {
  readonly provider: 'shumei';
  /** The requestId as received, with any `_N` segment suffix. */
  readonly rawRequestId: string;
  /** The requestId of the submit (suffix stripped): match on this. */
  readonly requestId: string;
  /** The segment number from the `_N` suffix, if any. */
  readonly segment: number | undefined;
  readonly btId: string | undefined;
  readonly code: number | undefined;
  readonly message: string | undefined;
  readonly riskLevel: RiskLevel | undefined;
  readonly riskLabel1: string | undefined;
  readonly riskLabel2: string | undefined;
  readonly riskLabel3: string | undefined;
  readonly riskDescription: string | undefined;
  readonly audioText: string | undefined;
  readonly audioUrl: string | undefined;
  /** 0 reviewing, 1 ended, when present. */
  readonly statCode: number | undefined;
  readonly passThrough: unknown;
  /** The whole payload. */
  readonly raw: Record<string, unknown>;
}

/** One transcribed slice in a Tupu result callback. */
export interface TupuSlice {
  readonly requestId: string | undefined;
  readonly roomId: string | undefined;
  readonly userId: string | undefined;
  readonly forumId: string | undefined;
  readonly sliceStartTime: number | undefined;
  readonly sliceEndTime: number | undefined;
  readonly content: string | undefined;
  readonly speechUrl: string | undefined;
  /** Violation label when the task reports one (0 normal). Not in the seed; see {@link tupuRiskLevel}. */
  readonly label: number | undefined;
  readonly review: boolean | undefined;
}

/** A parsed (and already verified) Tupu callback. */
export type TupuCallbackEvent =
  | { readonly provider: 'tupu'; readonly kind: 'end'; readonly requestId: string | undefined; readonly code: number | undefined; readonly raw: Record<string, unknown> }
  | {
      readonly provider: 'tupu';
      readonly kind: 'result';
      /** The first slice's requestId (all slices of one callback share the stream). */
      readonly requestId: string | undefined;
      readonly tasks: readonly { readonly taskId: string; readonly slices: readonly TupuSlice[] }[];
      readonly riskLevel: RiskLevel;
      readonly raw: Record<string, unknown>;
    };

/** A parsed anyRTC recording callback. */
export interface AnyRtcCallbackEvent {
  readonly provider: 'anyrtc';
  /** "1" meeting/mixed, "2" per stream, "3" frame image. */
  readonly type: string | undefined;
  readonly mediaType: string | undefined;
  readonly userId: string | undefined;
  readonly groupId: string | undefined;
  readonly fileName: string | undefined;
  readonly fileSize: number | undefined;
  readonly duration: number | undefined;
  readonly startTime: string | undefined;
  readonly endTime: string | undefined;
  readonly downloadUrl: string | undefined;
  /** `userData` as sent (a JSON string). */
  readonly userData: string | undefined;
  /** `userData` parsed, when it is JSON. */
  readonly userDataParsed: unknown;
  readonly raw: Record<string, unknown>;
}

/** Splits a Shumei callback requestId into the submit's id and the segment number (`<id>_2`). */
export function splitShumeiRequestId(id: string): { requestId: string; segment: number | undefined } {
  const m = /^(.+)_(\d{1,9})$/.exec(id);
  return m && m[1] !== undefined ? { requestId: m[1], segment: Number(m[2]) } : { requestId: id, segment: undefined };
}

/**
 * Parses a Shumei callback in either shape: risk fields nested under `audioDetail` (current) or flat at the top
 * level (the documents' example), `btId` or `btid`.
 * @returns the event, or undefined when the payload has no requestId
 */
export function parseShumeiCallback(body: unknown): ShumeiCallbackEvent | undefined {
  if (!isPlainObject(body)) return undefined;
  const raw = str(body.requestId);
  if (raw === undefined || raw === '') return undefined;
  const d = isPlainObject(body.audioDetail) ? body.audioDetail : body;
  const detail = isPlainObject(d.riskDetail) ? d.riskDetail : {};
  const level = str(d.riskLevel) ?? str(body.riskLevel);
  const { requestId, segment } = splitShumeiRequestId(raw);
  return {
    provider: 'shumei',
    rawRequestId: raw,
    requestId,
    segment,
    btId: str(body.btId) ?? str(body.btid),
    code: num(body.code),
    message: str(body.message),
    riskLevel: level !== undefined && LEVELS.includes(level) ? (level as RiskLevel) : undefined,
    riskLabel1: str(d.riskLabel1),
    riskLabel2: str(d.riskLabel2),
    riskLabel3: str(d.riskLabel3),
    riskDescription: str(d.riskDescription),
    audioText: str(d.audioText) ?? str(detail.audioText),
    audioUrl: str(d.audioUrl) ?? str(detail.audioUrl),
    statCode: num(body.statCode),
    passThrough: body.passThrough,
    raw: body,
  };
}

/**
 * The risk level of a Tupu result callback. The seed does not document the result fields: a slice `label` other than
 * 0 is a violation (REJECT, or REVIEW when `review` is true), label 0 is PASS, and a callback without labels is
 * treated as REVIEW, since with the default callbackRules 0 Tupu only calls back on violations.
 */
export function tupuRiskLevel(slices: readonly TupuSlice[]): RiskLevel {
  let level: RiskLevel = 'PASS';
  let sawLabel = false;
  for (const s of slices) {
    if (s.label === undefined) continue;
    sawLabel = true;
    if (s.label !== 0) {
      if (s.review === true) {
        if (level === 'PASS') level = 'REVIEW';
      } else level = 'REJECT';
    }
  }
  return sawLabel ? level : 'REVIEW';
}

/**
 * Parses a verified Tupu callback (the object inside `json`).
 * @returns undefined for an unrecognised shape, including anything that is not a plain object
 */
export function parseTupuCallback(inner: unknown): TupuCallbackEvent | undefined {
  if (!isPlainObject(inner)) return undefined;
  if (str(inner.status) === 'end') {
    return { provider: 'tupu', kind: 'end', requestId: str(inner.requestId), code: num(inner.code), raw: inner };
  }
  const tasks: { taskId: string; slices: TupuSlice[] }[] = [];
  for (const [taskId, v] of Object.entries(inner)) {
    if (!isPlainObject(v) || !Array.isArray(v.texts)) continue;
    const slices = v.texts.filter(isPlainObject).map(
      (t): TupuSlice => ({
        requestId: str(t.requestId),
        roomId: str(t.roomId),
        userId: str(t.userId),
        forumId: str(t.forumId),
        sliceStartTime: num(t.sliceStartTime),
        sliceEndTime: num(t.sliceEndTime),
        content: str(t.content),
        speechUrl: str(t.speechUrl),
        label: num(t.label),
        review: typeof t.review === 'boolean' ? t.review : undefined,
      }),
    );
    tasks.push({ taskId, slices });
  }
  if (tasks.length === 0) return undefined;
  const all = tasks.flatMap((t) => t.slices);
  return { provider: 'tupu', kind: 'result', requestId: all.find((s) => s.requestId)?.requestId, tasks, riskLevel: tupuRiskLevel(all), raw: inner };
}

/** Parses an anyRTC recording callback. @returns undefined when it is not an object */
export function parseAnyRtcCallback(body: unknown): AnyRtcCallbackEvent | undefined {
  if (!isPlainObject(body)) return undefined;
  const userData = str(body.userData);
  let userDataParsed: unknown;
  if (userData !== undefined) {
    try {
      userDataParsed = JSON.parse(userData);
    } catch {
      userDataParsed = undefined;
    }
  }
  const s = (v: unknown): string | undefined => (typeof v === 'number' ? String(v) : str(v));
  return {
    provider: 'anyrtc',
    type: s(body.type),
    mediaType: str(body.mediaType),
    userId: s(body.userId),
    groupId: s(body.groupId),
    fileName: str(body.fileName),
    fileSize: num(body.fileSize),
    duration: num(body.duration),
    startTime: s(body.startTime),
    endTime: s(body.endTime),
    downloadUrl: str(body.downloadUrl),
    userData,
    userDataParsed,
    raw: body,
  };
}

/**
 * Just enough AMF0 for the FLV `onMetaData` script tag: numbers, booleans, strings and the ECMA array.
 * @see Action Message Format AMF0, §2; Adobe FLV specification v10.1, Annex E.5 (SCRIPTDATA)
 */
import { KookRtpError } from '../../errors.js';

const T_NUMBER = 0x00;
const T_BOOLEAN = 0x01;
const T_STRING = 0x02;
const T_OBJECT = 0x03;
const T_ECMA_ARRAY = 0x08;
const T_OBJECT_END = 0x09;

/** A value this AMF0 subset can carry. */
export type Amf0Value = number | boolean | string;

/** The decoded `onMetaData` script tag. */
export interface FlvScriptData {
  /** The event name, `onMetaData` for metadata. */
  readonly name: string;
  /** Its properties, in wire order. */
  readonly properties: Readonly<Record<string, Amf0Value>>;
}

/**
 * Encodes a script tag body: AMF0 string `name` then an ECMA array of `properties`.
 * @throws KookRtpError `INVALID_ARGUMENT` for a key or string over 65535 UTF-8 bytes
 */
export function encodeFlvScriptData(s: FlvScriptData): Uint8Array {
  const parts: Uint8Array[] = [];
  const keys = Object.keys(s.properties);
  parts.push(Uint8Array.of(T_STRING), utf8Short(s.name));
  const head = new Uint8Array(5);
  head[0] = T_ECMA_ARRAY;
  new DataView(head.buffer).setUint32(1, keys.length);
  parts.push(head);
  for (const k of keys) {
    parts.push(utf8Short(k));
    const v = s.properties[k];
    if (typeof v === 'number') {
      const n = new Uint8Array(9);
      n[0] = T_NUMBER;
      new DataView(n.buffer).setFloat64(1, v);
      parts.push(n);
    } else if (typeof v === 'boolean') {
      parts.push(Uint8Array.of(T_BOOLEAN, v ? 1 : 0));
    } else if (typeof v === 'string') {
      parts.push(Uint8Array.of(T_STRING), utf8Short(v));
    }
  }
  parts.push(Uint8Array.of(0, 0, T_OBJECT_END));
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Decodes a script tag body written as a name plus an ECMA array or object of numbers, booleans and strings.
 * @throws KookRtpError `PACKET_TOO_SHORT` when truncated, `UNSUPPORTED_FORMAT` for other AMF0 types
 */
export function decodeFlvScriptData(bytes: Uint8Array): FlvScriptData {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const need = (n: number): void => {
    if (at + n > bytes.length) throw new KookRtpError('PACKET_TOO_SHORT', `AMF0 data truncated at byte ${at}`);
  };
  const readShortString = (): string => {
    need(2);
    const len = view.getUint16(at);
    at += 2;
    need(len);
    const s = new TextDecoder().decode(bytes.subarray(at, at + len));
    at += len;
    return s;
  };
  need(1);
  if (bytes[at++] !== T_STRING) throw new KookRtpError('UNSUPPORTED_FORMAT', 'expected an AMF0 string as the script tag name');
  const name = readShortString();
  need(1);
  const container = bytes[at++];
  if (container === T_ECMA_ARRAY) {
    need(4);
    at += 4; // the count is advisory: the object-end marker is authoritative
  } else if (container !== T_OBJECT) {
    throw new KookRtpError('UNSUPPORTED_FORMAT', `expected an AMF0 ECMA array or object, found type ${container}`);
  }
  const properties: Record<string, Amf0Value> = {};
  for (;;) {
    need(3);
    if (bytes[at] === 0 && bytes[at + 1] === 0 && bytes[at + 2] === T_OBJECT_END) break;
    const key = readShortString();
    need(1);
    const t = bytes[at++];
    let value: Amf0Value;
    if (t === T_NUMBER) {
      need(8);
      value = view.getFloat64(at);
      at += 8;
    } else if (t === T_BOOLEAN) {
      need(1);
      value = bytes[at++] !== 0;
    } else if (t === T_STRING) {
      value = readShortString();
    } else {
      throw new KookRtpError('UNSUPPORTED_FORMAT', `AMF0 type ${t} for "${key.slice(0, 64)}" is not supported here`);
    }
    // defineProperty, not assignment: a key named "__proto__" is data from the wire, and assigning it would be
    // silently dropped (or, for an object value, replace the prototype).
    Object.defineProperty(properties, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return { name, properties };
}

function utf8Short(s: string): Uint8Array {
  const b = new TextEncoder().encode(s);
  if (b.length > 0xffff) throw new KookRtpError('INVALID_ARGUMENT', `AMF0 short string is at most 65535 bytes, got ${b.length}`);
  const out = new Uint8Array(2 + b.length);
  out[0] = b.length >>> 8;
  out[1] = b.length & 0xff;
  out.set(b, 2);
  return out;
}

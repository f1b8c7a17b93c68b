/**
 * `raw`: records streamed undecoded, for an object whose event type nobody can say — each
 * record's length and its bytes as base64, so nothing is hidden.
 */
import type { Decoder, FieldInfo } from '../core/btf/index.js';

const FIELDS = Object.freeze([
  Object.freeze({ name: 'length', offset: 0, size: 4, kind: 'u32', type: 'u32', typeId: 0 }),
  Object.freeze({ name: 'data', offset: 0, size: 0, kind: 'bytes', type: 'base64', typeId: 0 }),
]) as FieldInfo[];

export const RAW_RECORDS: Decoder = Object.freeze({
  typeName: 'raw record',
  size: 0,
  minSize: 0,
  fields: FIELDS,
  decode(b: Buffer, offset = 0, length = b.length - offset): Record<string, unknown> {
    return { length, data: b.toString('base64', offset, offset + length) };
  },
});

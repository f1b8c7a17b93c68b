/** Output templates: literal text with `{field.path}` placeholders, compiled once to a renderer. */
import type { TrackerEvent } from '../pipeline/types.js';
import { fieldGetter, type Fail } from './condition.js';

export type Render = (ev: TrackerEvent) => string;

const PLACEHOLDER = /^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/;

function show(v: unknown): string {
  if (v === undefined || v === null) return '<NA>';
  if (Array.isArray(v)) return v.map(show).join(' ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** `{{` and `}}` are literal braces; anything else unbalanced is an error at load. */
export function compileTemplate(src: string, fail: Fail): Render {
  const parts: (string | ((ev: TrackerEvent) => unknown))[] = [];
  let text = '';
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if ((c === '{' || c === '}') && src[i + 1] === c) { text += c; i++; continue; }
    if (c === '}') fail(i, 'unmatched "}" in output (write "}}" for a literal brace)');
    if (c !== '{') { text += c; continue; }
    const end = src.indexOf('}', i + 1);
    if (end < 0) fail(i, 'unclosed "{" in output (write "{{" for a literal brace)');
    const name = src.slice(i + 1, end).trim();
    if (!PLACEHOLDER.test(name)) fail(i, `bad placeholder "{${src.slice(i + 1, end)}}" in output: expected a field like {comm} or {container.name}`);
    if (text) parts.push(text);
    text = '';
    parts.push(fieldGetter(name));
    i = end;
  }
  if (text) parts.push(text);
  return (ev) => {
    let out = '';
    for (const p of parts) out += typeof p === 'string' ? p : show(p(ev));
    return out;
  };
}

/** The whole of one event or alert: every field as `path: value` (a click filters on it), and the JSON. */
import { flatten, text } from '../events.js';

export interface DetailProps {
  title: string;
  value: unknown;
  onField?(path: string, v: unknown): void;
  onClose(): void;
}

export function Detail(p: DetailProps) {
  const fields = flatten(p.value);
  let json: string;
  try {
    json = JSON.stringify(p.value, null, 2);
  } catch {
    json = String(p.value);
  }
  return (
    <aside class="detail">
      <div class="detail-head">
        <strong>{p.title}</strong>
        <button type="button" class="link" onClick={p.onClose}>
          close
        </button>
      </div>
      <table class="fields">
        <tbody>
          {fields.map(([path, v]) => (
            <tr key={path}>
              <th>{path}</th>
              <td>
                {p.onField && v !== null && typeof v !== 'object' ? (
                  <span class="val" title="filter on this value" onClick={() => p.onField!(path, v)}>
                    {text(v)}
                  </span>
                ) : (
                  text(v)
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <details>
        <summary>JSON</summary>
        <pre class="json">{json}</pre>
      </details>
    </aside>
  );
}

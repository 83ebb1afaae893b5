import { useState } from 'preact/hooks';
import { linkHandler } from '../router.ts';
import { field, flatten, type Hit, jsonMessage, text } from './doc.ts';

/** Text values of keyword fields can be filtered on; the time, the message and what is inside a JSON message cannot. */
function filterable(name: string, value: unknown): boolean {
  return name !== '@timestamp' && !name.startsWith('message') && typeof value === 'string';
}

/**
 * One line in full: its message (pretty-printed when it is JSON), every field with a button to filter
 * by its value, a copy button and the way to its context.
 */
export function LogDetail({
  hit,
  onFilter,
  onClose,
}: {
  hit: Hit;
  onFilter: (name: string, value: string) => void;
  onClose: () => void;
}) {
  const message = text(field(hit.doc, 'message'));
  const json = jsonMessage(message);
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    await navigator.clipboard.writeText(message);
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  };
  const context = `/logs/context/${encodeURIComponent(hit.id)}`;
  const fields = flatten(hit.doc).filter(([name]) => name !== 'message');
  if (json) for (const [name, value] of flatten(json)) fields.push([`message › ${name}`, value]);
  return (
    <aside class="detail" aria-label="Line details">
      <div class="detail-actions">
        <a href={context} onClick={linkHandler(context)}>
          View in context
        </a>
        <button type="button" onClick={copy}>
          {copied ? 'Copied' : 'Copy line'}
        </button>
        <button type="button" class="close" onClick={onClose} aria-label="Close details">
          ×
        </button>
      </div>
      <pre class="message-full">{json ? JSON.stringify(json, null, 2) : message}</pre>
      {hit.truncated && <p class="note">This line was cut to fit one page of the API's answer.</p>}
      <table class="fields">
        <tbody>
          {fields.map(([name, value]) => (
            <tr key={name}>
              <th scope="row">{name}</th>
              <td>{text(value)}</td>
              <td>
                {filterable(name, value) && (
                  <button
                    type="button"
                    class="filter"
                    title={`Show only lines where ${name} is ${text(value)}`}
                    onClick={() => onFilter(name, text(value))}
                  >
                    filter
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </aside>
  );
}

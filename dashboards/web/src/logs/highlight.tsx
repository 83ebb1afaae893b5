import type { ComponentChildren } from 'preact';

/** The text with every occurrence of the terms marked, case-insensitively. */
export function Highlighted({ text, terms }: { text: string; terms: string[] }) {
  if (terms.length === 0 || text.length === 0) return <>{text}</>;
  const pattern = new RegExp(
    terms
      .filter(Boolean)
      .sort((a, b) => b.length - a.length)
      .map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('|'),
    'giu',
  );
  const parts: ComponentChildren[] = [];
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match[0].length === 0) continue;
    parts.push(text.slice(last, match.index), <mark key={match.index}>{match[0]}</mark>);
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  return <>{parts}</>;
}

import { useEffect, useRef, useState } from 'preact/hooks';
import { field, formatTime, type Hit, levelClass, text } from './doc.ts';
import { Highlighted } from './highlight.tsx';

const ROW_PX = 24;
const OVERSCAN = 20;

/** Where a line came from, as short as still tells it apart. */
export function source(doc: Record<string, unknown>): string {
  const namespace = text(field(doc, 'kubernetes.namespace'));
  const pod = text(field(doc, 'kubernetes.pod.name'));
  const container = text(field(doc, 'kubernetes.container.name'));
  return [namespace, pod, container].filter(Boolean).join('/') || text(field(doc, 'host.name'));
}

export function LogRow({
  hit,
  terms,
  selected,
  onSelect,
}: {
  hit: Hit;
  terms: string[];
  selected: boolean;
  onSelect: (hit: Hit) => void;
}) {
  const level = text(field(hit.doc, 'log.level'));
  const message = text(field(hit.doc, 'message'));
  return (
    <li
      class={`row${selected ? ' selected' : ''}${hit.anchor ? ' anchor' : ''}`}
      data-id={hit.id}
      onClick={() => onSelect(hit)}
      onKeyDown={(e) => {
        if (e.key === 'Enter') onSelect(hit);
      }}
    >
      <span class="time">{formatTime(field(hit.doc, '@timestamp'))}</span>
      <span class={`level ${levelClass(level)}`}>{level}</span>
      <span class="source">{source(hit.doc)}</span>
      <span class="message">
        <Highlighted text={message.length > 2000 ? `${message.slice(0, 2000)}…` : message} terms={terms} />
      </span>
    </li>
  );
}

/**
 * Lines in a list that renders only the rows in view, so 100,000 loaded rows scroll as smoothly as 100.
 * `onNearEnd` asks for the next page when the last rows come into view.
 */
export function LogList({
  hits,
  terms,
  selectedId,
  onSelect,
  onNearEnd,
  centre,
  follow,
  onFollowChange,
}: {
  hits: Hit[];
  terms: string[];
  selectedId?: string;
  onSelect: (hit: Hit) => void;
  onNearEnd?: () => void;
  /** A row to bring to the middle of the view when the list first shows. */
  centre?: number;
  /** Keeps the newest (last) row in view as rows are added. */
  follow?: boolean;
  /** Told when the person scrolls away from the last row (false) or back to it (true). */
  onFollowChange?: (following: boolean) => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const atEnd = useRef(true);
  const followChange = useRef(onFollowChange);
  followChange.current = onFollowChange;
  useEffect(() => {
    const element = box.current!;
    if (follow) element.scrollTop = element.scrollHeight;
  }, [follow, hits.length]);
  useEffect(() => {
    const element = box.current!;
    if (centre !== undefined) element.scrollTop = Math.max(0, centre * ROW_PX - element.clientHeight / 2);
  }, [centre]);
  const [view, setView] = useState({ top: 0, height: 600 });
  useEffect(() => {
    const element = box.current!;
    const update = () => {
      setView({ top: element.scrollTop, height: element.clientHeight });
      const end = element.scrollTop + element.clientHeight >= element.scrollHeight - ROW_PX;
      if (end !== atEnd.current) {
        atEnd.current = end;
        followChange.current?.(end);
      }
    };
    update();
    element.addEventListener('scroll', update, { passive: true });
    const resize = new ResizeObserver(update);
    resize.observe(element);
    return () => {
      element.removeEventListener('scroll', update);
      resize.disconnect();
    };
  }, []);
  const first = Math.max(0, Math.floor(view.top / ROW_PX) - OVERSCAN);
  const last = Math.min(hits.length, Math.ceil((view.top + view.height) / ROW_PX) + OVERSCAN);
  useEffect(() => {
    if (onNearEnd && hits.length > 0 && last >= hits.length - OVERSCAN) onNearEnd();
  }, [last, hits.length, onNearEnd]);
  return (
    <div class="log-list" ref={box}>
      <div style={{ height: `${hits.length * ROW_PX}px`, position: 'relative' }}>
        <ul style={{ transform: `translateY(${first * ROW_PX}px)` }}>
          {hits.slice(first, last).map((hit) => (
            <LogRow
              key={hit.id}
              hit={hit}
              terms={terms}
              selected={hit.id === selectedId}
              onSelect={onSelect}
            />
          ))}
        </ul>
      </div>
    </div>
  );
}

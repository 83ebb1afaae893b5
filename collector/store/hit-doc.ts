/**
 * Deepest nesting a found document is answered with. Far deeper than any log
 * record (ingest bounds nesting much lower), and far below where serialising
 * the answer, which recurses once per level, runs out of stack: a document
 * stored before ingest was bounded must not turn every search that finds it
 * into a 500.
 */
export const MAX_HIT_DEPTH = 100;

/** What stands in for an object or array nested deeper than MAX_HIT_DEPTH. */
export const DEPTH_CUT = `[nested more than ${MAX_HIT_DEPTH} levels deep: not shown]`;

type Container = Record<string, unknown> | unknown[];

/**
 * The document of a hit, with anything nested past MAX_HIT_DEPTH replaced
 * by DEPTH_CUT. Changes the freshly parsed document in place, and only when
 * it is that deep; walks it with a stack of its own, as recursion is the very
 * thing such a document breaks.
 */
export function boundedDoc(doc: Record<string, unknown>): Record<string, unknown> {
  const stack: [Container, number][] = [[doc, 1]];
  for (let top = stack.pop(); top; top = stack.pop()) {
    const [container, depth] = top;
    const entries: [string | number, unknown][] = Array.isArray(container)
      ? container.map((value, i) => [i, value])
      : Object.entries(container);
    for (const [key, value] of entries) {
      if (value === null || typeof value !== 'object') continue;
      if (depth < MAX_HIT_DEPTH) stack.push([value as Container, depth + 1]);
      else (container as Record<string | number, unknown>)[key] = DEPTH_CUT;
    }
  }
  return doc;
}

/** Sets an own property, even one named `__proto__` (which plain assignment would turn into a prototype change). */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true });
  else target[key] = value;
}

/** `value` placed at a dotted path: `nest(['app', 'fields'], v)` is `{ app: { fields: v } }`. */
export function nest(path: readonly string[], value: unknown): Record<string, unknown> {
  let out = value;
  for (let i = path.length - 1; i >= 0; i--) {
    const holder: Record<string, unknown> = {};
    setOwn(holder, path[i]!, out);
    out = holder;
  }
  return out as Record<string, unknown>;
}

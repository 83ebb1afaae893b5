export interface SliceLimits {
  maxRecords: number;
  /** Bytes of record values; a record larger than this is a slice of its own. */
  maxBytes: number;
}

/** Cuts a fetched batch into consecutive slices of at least one record, each within both limits. */
export function* batchSlices<T extends { value: Buffer | null }>(
  messages: readonly T[],
  limits: SliceLimits,
): Generator<T[]> {
  for (let from = 0; from < messages.length; ) {
    const last = Math.min(messages.length, from + limits.maxRecords);
    let bytes = messages[from]!.value?.length ?? 0;
    let end = from + 1;
    for (; end < last; end++) {
      bytes += messages[end]!.value?.length ?? 0;
      if (bytes > limits.maxBytes) break;
    }
    yield messages.slice(from, end);
    from = end;
  }
}

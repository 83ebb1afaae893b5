/** Short names for the fields developers filter on most, in filters, facets and `name:value` terms. */
export const SHORT_FIELDS: Record<string, string> = {
  namespace: 'kubernetes.namespace',
  pod: 'kubernetes.pod.name',
  container: 'kubernetes.container.name',
  node: 'kubernetes.node.name',
  level: 'log.level',
};

/** A dotted field name as filters and facets take it. */
export const FIELD_NAME = /^[A-Za-z0-9_@][\w.@-]{0,127}$/;

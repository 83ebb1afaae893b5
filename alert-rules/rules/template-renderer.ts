import type { expandTemplate } from './template/expand.ts';

export type { TemplateContext } from './template/expand.ts';

/**
 * Expands one Go template (`expandTemplate`, injected so that tests can use a
 * fake). On a template error it resolves to the text Prometheus puts in its
 * place ("<error expanding template: …>"), so one broken annotation never stops a rule.
 */
export type TemplateRenderer = typeof expandTemplate;

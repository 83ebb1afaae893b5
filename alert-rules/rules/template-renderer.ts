import { type expandTemplate, TEMPLATE_ERROR } from './template/expand.ts';

export type { TemplateContext } from './template/expand.ts';

/**
 * Expands one Go template (`expandTemplate`, injected so that tests can use a
 * fake). On a template error it resolves to the text Prometheus puts in its
 * place ("<error expanding template: …>"), so one broken annotation never stops a rule.
 */
export type TemplateRenderer = typeof expandTemplate;

/** The renderer, telling `onError` of each expansion that failed (its output is the error text). */
export function reportingErrors(
  render: TemplateRenderer,
  onError: (name: string, error: string) => void,
): TemplateRenderer {
  return async (name, text, context, signal) => {
    const output = await render(name, text, context, signal);
    if (output.startsWith(TEMPLATE_ERROR)) onError(name, output);
    return output;
  };
}

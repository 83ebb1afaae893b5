import { describe, expect, it } from 'vitest';
import { expandTemplate } from './template/expand.ts';
import { reportingErrors } from './template-renderer.ts';

const context = {
  labels: { job: 'api' },
  externalLabels: {},
  externalURL: '',
  value: 1,
  timeMs: 0,
  query: async () => [],
};

describe('reportingErrors', () => {
  it('tells of failed expansions only, and passes every output on unchanged', async () => {
    const errors: [string, string][] = [];
    const render = reportingErrors(expandTemplate, (name, error) => errors.push([name, error]));
    expect(await render('ok', 'job {{ $labels.job }}', context)).toBe('job api');
    const failed = await render('bad', '{{ index $labels 5 }}', context);
    expect(failed).toMatch(/^<error expanding template: error executing template bad: /);
    expect(errors).toEqual([['bad', failed]]);
  });
});

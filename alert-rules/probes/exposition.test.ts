import { describe, expect, it } from 'vitest';
import { latestExposition, probeExposition } from './exposition.ts';
import { testTarget } from './fixtures/fakes.ts';
import { sample } from './samples.ts';
import type { ProbeResult } from './types.ts';

const result: ProbeResult = {
  success: false,
  failure: 'status 503',
  startedAtMs: 0,
  durationMs: 250,
  samples: [
    sample('probe_http_status_code', 503),
    sample('probe_http_duration_seconds', 0.01, { phase: 'connect' }),
    sample('probe_http_duration_seconds', 0.2, { phase: 'processing' }),
  ],
};

describe('probe exposition', () => {
  it("writes one probe as blackbox_exporter's /probe: names in order, one HELP and TYPE each", () => {
    expect(probeExposition(result)).toBe(
      [
        '# HELP probe_duration_seconds Returns how long the probe took to complete in seconds',
        '# TYPE probe_duration_seconds gauge',
        'probe_duration_seconds 0.25',
        '# HELP probe_http_duration_seconds Duration of http request by phase, summed over all redirects',
        '# TYPE probe_http_duration_seconds gauge',
        'probe_http_duration_seconds{phase="connect"} 0.01',
        'probe_http_duration_seconds{phase="processing"} 0.2',
        '# HELP probe_http_status_code Response HTTP status code',
        '# TYPE probe_http_status_code gauge',
        'probe_http_status_code 503',
        '# HELP probe_success Displays whether or not the probe was a success',
        '# TYPE probe_success gauge',
        'probe_success 0',
        '',
      ].join('\n'),
    );
  });

  it('labels every series of the latest results with its target and probe, escaping label values', () => {
    const target = { ...testTarget('shop'), target: 'http://shop.example/"a"\\b\n' };
    const text = latestExposition([{ target, result }]);
    expect(text).toContain('probe_success{instance="http://shop.example/\\"a\\"\\\\b\\n",probe="shop"} 0\n');
    expect(text).toContain(
      'probe_http_duration_seconds{instance="http://shop.example/\\"a\\"\\\\b\\n",probe="shop",phase="connect"} 0.01\n',
    );
    expect(latestExposition([])).toBe('');
  });
});

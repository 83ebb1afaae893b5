import { describe, expect, it } from 'vitest';
import { Templates, templateError } from './template.ts';

const at = Date.UTC(2024, 4, 1, 12, 0, 0);
const alert = {
  title: 'Pod "api-7d9" crash-looping',
  text: 'Back-off restarting failed container\n退出码 137 😱',
  severity: 'critical' as const,
  fields: { namespace: 'shop', restarts: 12 },
  url: 'https://lookout.example/events?pod=api-7d9',
};

describe('templates', () => {
  it('renders the default markdown in English', () => {
    const { title, text } = new Templates({ kind: 'markdown', locale: 'en', timeZone: 'UTC' }).render(
      alert,
      at,
    );
    expect(title).toBe('🔴 Critical Pod "api-7d9" crash-looping');
    expect(text).toBe(
      [
        '### 🔴 Critical Pod "api-7d9" crash-looping',
        '',
        'Back-off restarting failed container',
        '退出码 137 😱',
        '',
        '- **namespace**: shop',
        '- **restarts**: 12',
        '',
        'Time: 2024-05-01 12:00:00 UTC',
        '',
        '[Details](https://lookout.example/events?pod=api-7d9)',
      ].join('\n'),
    );
  });

  it('renders the default WeCom markdown in Chinese, in the robot time zone', () => {
    const { text } = new Templates({
      kind: 'wecom-markdown',
      locale: 'zh',
      timeZone: 'Asia/Shanghai',
    }).render({ title: '磁盘使用率 95%', status: 'resolved', severity: 'warning' }, at);
    expect(text).toBe(
      [
        '**磁盘使用率 95%**',
        '<font color="info">✅ 已恢复</font>',
        '> 时间: <font color="comment">2024-05-01 20:00:00 GMT+8</font>',
      ].join('\n'),
    );
  });

  it('renders plain text with every field, leaving out what is absent', () => {
    const { text } = new Templates({ kind: 'text', locale: 'en', timeZone: 'UTC' }).render(
      { title: 'Node "n1" NotReady', severity: 'warning', time: at - 60_000 },
      at,
    );
    expect(text).toBe('🟠 Warning Node "n1" NotReady\nTime: 2024-05-01 11:59:00 UTC');
  });

  it('shows the send time when the event time is missing or invalid', () => {
    const templates = new Templates({ kind: 'text', locale: 'en', timeZone: 'UTC', text: '{{time}}' });
    expect(templates.render({ title: 'x', time: new Date('not a date') }, at).text).toBe(
      '2024-05-01 12:00:00 UTC',
    );
    expect(templates.render({ title: 'x' }, at).text).toBe('2024-05-01 12:00:00 UTC');
  });

  it('uses custom templates without HTML escaping', () => {
    const templates = new Templates({
      kind: 'text',
      locale: 'zh',
      timeZone: 'UTC',
      title: '[{{severity}}] {{title}}',
      text: '{{title}} <{{fields.namespace}}> & {{key}}',
    });
    expect(templates.render({ ...alert, key: 'fp-1' }, at)).toEqual({
      title: '[critical] Pod "api-7d9" crash-looping',
      text: 'Pod "api-7d9" crash-looping <shop> & fp-1',
    });
  });

  it('falls back to the plain title and text when a template fails at run time', () => {
    const templates = new Templates({ kind: 'text', locale: 'en', timeZone: 'UTC', text: '{{shout title}}' });
    const rendered = templates.render(alert, at);
    expect(rendered.text).toBe(`${alert.title}\n${alert.text}\n${alert.url}`);
    expect(rendered.error).toMatch(/shout/);
  });

  it('reports syntax errors', () => {
    expect(templateError('{{title}}')).toBeUndefined();
    expect(templateError('{{#each fields}}')).toMatch(/Parse error/);
  });
});

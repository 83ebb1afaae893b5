import { describe, expect, it, vi } from 'vitest';
import { useRobotBed } from '../test/robots/harness.ts';

// Every errcode path of one robot, against the robot server, in virtual time.

const SECRET = 'SECs3cr3t-never-logged';
const bed = useRobotBed();

const alert = (title: string, text = 'details') => ({
  title,
  text,
  severity: 'critical' as const,
  key: `fp-${title}`,
});
const errcodes = (name: string) => bed.server.rejected(name).map((r) => r.errcode);

describe('robot: success and content', () => {
  it('keeps quotes, backslashes, newlines, emoji and Chinese intact', async () => {
    const ops = bed.server.dingtalk({ name: 'ops', secret: SECRET });
    const dev = bed.server.wecom({ name: 'dev' });
    const { chat, metric } = await bed.chat({ ops: { ...ops, msgtype: 'text' }, dev });
    const text = 'He said "stop" \\ now\n第二行：磁盘已满 😀👍🏽\t{"json": true}';
    chat.send(['ops', 'dev'], alert('引号 "quoted" 标题', text));
    await chat.idle();
    expect(bed.server.accepted('ops')[0]?.text).toContain(`引号 "quoted" 标题\n${text}`);
    expect(bed.server.accepted('dev')[0]?.text).toContain(text);
    expect(await metric('lookout_notify_sends_total', { robot: 'ops', errcode: '0' })).toBe(1);
    expect(await metric('lookout_notify_sends_total', { robot: 'dev', errcode: '0' })).toBe(1);
  });

  it('mentions people by mobile and user id, only for the configured severities', async () => {
    const ops = bed.server.dingtalk({ name: 'ops' });
    const dev = bed.server.wecom({ name: 'dev' });
    const { chat } = await bed.chat({
      ops: { ...ops, msgtype: 'text', mentions: { mobiles: ['13800000000'], severities: ['critical'] } },
      dev: { ...dev, msgtype: 'text', mentions: { userIds: ['zhangsan'] } },
    });
    chat.send(['ops', 'dev'], alert('down'));
    chat.send(['ops'], { title: 'fyi', severity: 'info', mentions: { userIds: ['lisi'] } });
    await chat.idle();
    const [critical, info] = bed.server.accepted('ops');
    expect(critical?.body.at).toEqual({ atMobiles: ['13800000000'], atUserIds: [], isAtAll: false });
    expect(critical?.text).toMatch(/@13800000000$/);
    expect(info?.body.at).toEqual({ atMobiles: [], atUserIds: ['lisi'], isAtAll: false });
    expect(bed.server.accepted('dev')[0]?.body.text).toMatchObject({ mentioned_list: ['zhangsan'] });
  });

  it('sends an action card with a details button', async () => {
    const ops = bed.server.dingtalk({ name: 'ops', keyword: 'Lookout' });
    const { chat } = await bed.chat({ ops: { ...ops, msgtype: 'actionCard' } });
    chat.send(['ops'], { ...alert('card'), url: 'https://lookout.example/e/1' });
    await chat.idle();
    expect(bed.server.accepted('ops')[0]?.body.actionCard).toMatchObject({
      singleTitle: 'Details',
      singleURL: 'https://lookout.example/e/1',
    });
  });
});

describe('robot: byte limits', () => {
  it('truncates to exactly what DingTalk accepts, on a character boundary', async () => {
    const ops = bed.server.dingtalk({ name: 'ops', keyword: '告警' });
    const { chat, metric } = await bed.chat({ ops });
    const long = '磁盘"已满"😀\n'.repeat(3_000);
    chat.send(['ops'], alert('big', long));
    await chat.idle();
    const [got] = bed.server.accepted('ops');
    const size = Buffer.byteLength(JSON.stringify(got?.body));
    expect(size).toBeLessThanOrEqual(20_000);
    expect(size).toBeGreaterThan(20_000 - 8);
    expect(got?.text).toMatch(/… \(truncated, \d+ more bytes\)\n\n告警$/);
    expect(got?.text).not.toContain('\ufffd');
    expect(await metric('lookout_notify_truncated_total', { robot: 'ops' })).toBe(1);
  });

  it('truncates WeCom text to 2,048 bytes of content', async () => {
    const dev = bed.server.wecom({ name: 'dev' });
    const { chat } = await bed.chat({ dev: { ...dev, msgtype: 'text' } });
    chat.send(['dev'], alert('big', '中文'.repeat(2_000)));
    await chat.idle();
    const content = bed.server.accepted('dev')[0]?.text ?? '';
    expect(Buffer.byteLength(content)).toBeLessThanOrEqual(2048);
    expect(Buffer.byteLength(content)).toBeGreaterThan(2048 - 6);
    expect(content).toMatch(/truncated, \d+ more bytes\)$/);
  });

  it('splits into numbered parts when configured, losing nothing', async () => {
    const dev = bed.server.wecom({ name: 'dev' });
    const { chat } = await bed.chat({ dev: { ...dev, split: true, template: { text: '{{text}}' } } });
    const lines = Array.from({ length: 400 }, (_, i) => `第 ${i} 行 line "${i}"`);
    chat.send(['dev'], alert('split', lines.join('\n')));
    await chat.idle();
    const parts = bed.server.accepted('dev').map((m) => m.text);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.every((p, i) => p.startsWith(`(${i + 1}/${parts.length}) `))).toBe(true);
    const joined = parts.map((p) => p.replace(/^\(\d+\/\d+\) /, '')).join('');
    expect(joined).toBe(lines.join('\n'));
  });

  it('re-sends once, cut shorter, when the robot says 460101 anyway', async () => {
    const ops = bed.server.dingtalk({ name: 'ops', maxBodyBytes: 3_000 });
    const { chat, metric } = await bed.chat({ ops });
    chat.send(['ops'], alert('long', 'x'.repeat(5_000)));
    await chat.idle();
    expect(errcodes('ops')).toEqual([460101]);
    expect(bed.server.accepted('ops')[0]?.text).toMatch(/truncated, \d+ more bytes/);
    expect(await metric('lookout_notify_sends_total', { robot: 'ops', errcode: '460101' })).toBe(1);
  });

  it('drops, counts and logs a message still too long after one shorter try (40058)', async () => {
    const dev = bed.server.wecom({ name: 'dev', markdownBytes: 200 });
    const { chat, metric, records } = await bed.chat({ dev });
    chat.send(['dev'], alert('long', 'y'.repeat(3_000)));
    await chat.idle();
    expect(errcodes('dev')).toEqual([40058, 40058]);
    expect(await metric('lookout_notify_dropped_total', { robot: 'dev', reason: 'rejected' })).toBe(1);
    expect(records()).toContainEqual(
      expect.objectContaining({
        msg: 'notification dropped',
        robot: 'dev',
        notificationKey: 'fp-long',
        errcode: '40058',
      }),
    );
  });
});

describe('robot: errors that are not retried', () => {
  it.each([
    ['310000 for a wrong signature', { secret: 'SECright' }, { secret: 'SECwrong' }, '310000'],
    ['310000 for a missing keyword', { keyword: 'Lookout' }, {}, '310000'],
    ['300001 for an unknown token', {}, { accessToken: 'unknown-token' }, '300001'],
  ])('drops and reports DingTalk %s', async (_case, serverSide, clientSide, errcode) => {
    const ops = { ...bed.server.dingtalk({ name: 'ops', ...serverSide }), ...clientSide };
    const { chat, metric, records } = await bed.chat({ ops: { ...ops, keyword: undefined } });
    chat.send(['ops'], alert('a'));
    await chat.idle();
    expect(bed.server.accepted('ops')).toEqual([]);
    expect(await metric('lookout_notify_sends_total', { robot: 'ops', errcode })).toBe(1);
    expect(await metric('lookout_notify_dropped_total', { robot: 'ops', reason: 'rejected' })).toBe(1);
    const dropped = records().find((r) => r.msg === 'notification dropped');
    expect(dropped).toMatchObject({
      level: 'error',
      robot: 'ops',
      notificationKey: 'fp-a',
      errcode,
      title: '🔴 Critical a',
    });
  });

  it('drops and reports WeCom 93000 for an unknown key, without retrying', async () => {
    const dev = { ...bed.server.wecom({ name: 'dev' }), key: 'not-a-key' };
    const { chat, metric } = await bed.chat({ dev });
    chat.send(['dev'], alert('a'));
    await chat.idle();
    expect(await metric('lookout_notify_sends_total', { robot: 'dev', errcode: '93000' })).toBe(1);
    expect(await metric('lookout_notify_dropped_total', { robot: 'dev', reason: 'rejected' })).toBe(1);
  });

  it('does not retry an unknown errcode', async () => {
    const ops = bed.server.dingtalk({ name: 'ops' });
    bed.server.setFailure('ops', { errcode: 400102, errmsg: '机器人已停用' });
    const { chat, metric } = await bed.chat({ ops });
    chat.send(['ops'], alert('a'));
    await chat.idle();
    expect(bed.server.requests('ops')).toBe(1);
    expect(await metric('lookout_notify_dropped_total', { robot: 'ops', reason: 'rejected' })).toBe(1);
  });
});

describe('robot: errors that are retried', () => {
  it.each([
    ['HTTP 500', '500', 'http_500'],
    ['a reset connection', 'reset', 'network'],
    ['errcode -1 (system busy)', { errcode: -1, errmsg: '系统繁忙' }, '-1'],
  ] as const)('retries %s with backoff and delivers', async (_case, failure, code) => {
    const ops = bed.server.dingtalk({ name: 'ops' });
    bed.server.setFailure('ops', failure, 3);
    const { chat, metric, records } = await bed.chat({ ops });
    const started = bed.clock.now();
    chat.send(['ops'], alert('a'));
    await chat.idle();
    expect(bed.server.accepted('ops')).toHaveLength(1);
    expect(await metric('lookout_notify_sends_total', { robot: 'ops', errcode: code })).toBe(3);
    // Backoff doubles from 1 s (jitter fixed at the middle): 0.75 + 1.5 + 3 s.
    expect(bed.server.accepted('ops')[0]!.at - started).toBe(5_250);
    expect(
      records()
        .filter((r) => r.msg === 'send failed; retrying')
        .map((r) => r.retryInMs),
    ).toEqual([750, 1_500, 3_000]);
  });

  it('signs every attempt afresh, so a retry more than an hour later is still accepted', async () => {
    const ops = bed.server.dingtalk({ name: 'ops', secret: SECRET });
    bed.server.setFailure('ops', '500', 2);
    const { chat } = await bed.chat({ ops: { ...ops, retry: { minDelay: '40m', maxDelay: '1h' } } });
    const started = bed.clock.now();
    chat.send(['ops'], alert('a'));
    await chat.idle();
    expect(bed.server.accepted('ops')[0]!.at - started).toBe(75 * 60_000);
    expect(errcodes('ops')).toEqual([]);
  });

  it('retries a request that hangs past the timeout', async () => {
    const ops = bed.server.dingtalk({ name: 'ops' });
    bed.server.setFailure('ops', 'hang', 1);
    const { chat, metric } = await bed.chat({ ops: { ...ops, timeout: '300ms' } });
    chat.send(['ops'], alert('a'));
    await chat.idle();
    expect(bed.server.accepted('ops')).toHaveLength(1);
    expect(
      await metric('lookout_notify_sends_total', { robot: 'ops', errcode: 'timeout' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it.each([
    ['DingTalk 130101', 'dingtalk', 130101],
    ['WeCom 45009', 'wecom', 45009],
  ] as const)('pauses for the window after %s, doubling while it repeats', async (_case, kind, errcode) => {
    const robot = kind === 'dingtalk' ? bed.server.dingtalk({ name: 'r' }) : bed.server.wecom({ name: 'r' });
    bed.server.setFailure('r', { errcode }, 2);
    const { chat, metric } = await bed.chat({ r: robot });
    const started = bed.clock.now();
    chat.send(['r'], alert('a'));
    await chat.idle();
    expect(bed.server.accepted('r')).toHaveLength(1);
    expect(bed.server.accepted('r')[0]!.at - started).toBe(60_000 + 120_000);
    expect(await metric('lookout_notify_sends_total', { robot: 'r', errcode: String(errcode) })).toBe(2);
  });
});

describe('robot: queue', () => {
  it('merges the oldest into a digest when the outbox is full, counting them and losing none', async () => {
    const ops = bed.server.dingtalk({ name: 'ops' });
    bed.server.setFailure('ops', 'hang');
    const { chat, metric } = await bed.chat({
      ops: { ...ops, timeout: '300ms', queue: { maxMessages: 3 } },
    });
    const titles = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot'];
    const results = titles.map((t) => chat.send(['ops'], alert(t)));
    expect(results.map((r) => r.queued.length)).toEqual([1, 1, 1, 1, 1, 1]);
    // alpha is being sent, so it stays whole; bravo and charlie, then that digest and delta, then it and echo merge.
    expect(await metric('lookout_notify_outbox_merged_total', { robot: 'ops' })).toBe(6);
    expect(await metric('lookout_notify_outbox_depth', { robot: 'ops' })).toBe(3);
    expect(await metric('lookout_notify_dropped_total', { robot: 'ops', reason: 'queue_full' })).toBe(0);
    bed.server.setFailure('ops', undefined);
    await chat.idle();
    const texts = bed.server.accepted('ops').map((m) => m.text);
    for (const title of titles) expect(texts.filter((text) => text.includes(title))).toHaveLength(1);
  });

  it('reports the outbox depth and the age of its oldest message, growing while it waits', async () => {
    const ops = bed.server.dingtalk({ name: 'ops' });
    bed.server.setFailure('ops', 'hang');
    const { chat, metric } = await bed.chat({ ops: { ...ops, timeout: '1h' } });
    chat.send(['ops'], alert('first'));
    bed.clock.advance(30_000);
    chat.send(['ops'], alert('second'));
    bed.clock.advance(15_000);
    expect(await metric('lookout_notify_outbox_depth', { robot: 'ops' })).toBe(2);
    expect(await metric('lookout_notify_outbox_oldest_seconds', { robot: 'ops' })).toBe(45);
  });

  it('never merges or drops for room while the messages being sent fill the whole bound', async () => {
    const ops = bed.server.dingtalk({ name: 'ops', perMinute: 1 });
    const { chat, metric } = await bed.chat({
      ops: { ...ops, perMinute: 1, timeout: '1h', queue: { maxMessages: 3 } },
    });
    chat.send(['ops'], alert('first'));
    await chat.idle();
    for (const title of ['b', 'c', 'd']) chat.send(['ops'], alert(title));
    bed.server.setFailure('ops', 'hang');
    bed.clock.advance(61_000);
    // b, c and d waited past maxAge: one digest of all three is on its way.
    await vi.waitFor(() => expect(bed.server.requests('ops')).toBe(2));
    expect(chat.send(['ops'], alert('late')).queued).toEqual(['ops']);
    expect(await metric('lookout_notify_dropped_total', { robot: 'ops', reason: 'queue_full' })).toBe(0);
    expect(await metric('lookout_notify_outbox_depth', { robot: 'ops' })).toBe(4);
  });
});

describe('robot: status', () => {
  it("lists each robot's queue and its latest refusals in the robot's words, a URL in them without its query", async () => {
    const ops = bed.server.dingtalk({ name: 'ops' });
    bed.server.setFailure('ops', {
      errcode: 400102,
      errmsg: '机器人已停用 https://oapi.dingtalk.com/robot/send?access_token=leaked-token',
    });
    const { chat } = await bed.chat({ ops });
    chat.send(['ops'], alert('a'));
    await chat.idle();
    const { sending, robots } = chat.status();
    expect(sending).toBe(true);
    expect(robots).toEqual([
      {
        name: 'ops',
        type: 'dingtalk',
        queued: 0,
        oldestQueuedAt: null,
        refusals: [
          {
            at: expect.any(String),
            errcode: '400102',
            errmsg: '机器人已停用 https://oapi.dingtalk.com/robot/send?redacted',
            title: '🔴 Critical a',
            messages: 1,
          },
        ],
      },
    ]);
    expect(JSON.stringify(robots)).not.toContain('leaked-token');
  });
});

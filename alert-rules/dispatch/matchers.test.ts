import { describe, expect, it } from 'vitest';
import {
  type Matcher,
  MatcherError,
  matchersFromMaps,
  matchersToString,
  matcherToString,
  matches,
  parseMatcher,
  parseMatchers,
} from './matchers.ts';

const m = (name: string, type: Matcher['type'], value: string) => ({ name, type, value });
const plain = (list: Matcher[]) => list.map(({ name, type, value }) => ({ name, type, value }));

describe('parseMatchers', () => {
  it.each([
    ['{foo="bar"}', [m('foo', '=', 'bar')]],
    ['foo=bar', [m('foo', '=', 'bar')]],
    ['foo=bar,dings!=bums', [m('foo', '=', 'bar'), m('dings', '!=', 'bums')]],
    ['{foo = "bar", dings != "bums", }', [m('foo', '=', 'bar'), m('dings', '!=', 'bums')]],
    ['statuscode=~"5.."', [m('statuscode', '=~', '5..')]],
    ['a!~"x|y"', [m('a', '!~', 'x|y')]],
    ['{}', []],
    ['', []],
    ['foo=""', [m('foo', '=', '')]],
    // Quoting: commas and braces inside quotes, escaped quotes and backslashes, Go escapes.
    ['{quote="She said: \\"Hi, all!\\""}', [m('quote', '=', 'She said: "Hi, all!"')]],
    ['a="x\\\\y"', [m('a', '=', 'x\\y')]],
    ['a="line\\nbreak"', [m('a', '=', 'line\nbreak')]],
    ['a="\\u00e9t\\u00e9"', [m('a', '=', 'été')]],
    ['a="{b}"', [m('a', '=', '{b}')]],
    // UTF-8 names and values.
    ['"service.name"="api"', [m('service.name', '=', 'api')]],
    ['{"故障"="是"}', [m('故障', '=', '是')]],
    ['region=东京', [m('region', '=', '东京')]],
    // Only the classic parser takes these: unquoted values with reserved characters, a lone backslash.
    ['foo=bar baz', [m('foo', '=', 'bar baz')]],
    ['job=~node.*|api', [m('job', '=~', 'node.*|api')]],
    ['path="C:\\dir"', [m('path', '=', 'C:\\dir')]],
    // Like Alertmanager, the classic parser takes a missing closing brace.
    ['{foo="bar"', [m('foo', '=', 'bar')]],
  ])('%s', (text, expected) => {
    expect(plain(parseMatchers(text))).toEqual(expected);
  });

  it.each([
    ['{foo="bar"}}', /end of input/],
    ['foo', /operator/],
    ['foo=="bar"', /invalid matchers/],
    ['foo="bar', /missing closing "|double quote/],
    ['="bar"', /label name|bad matcher format/],
    ['a="b" c="d"', /comma|bad matcher/],
  ])('refuses %s', (text, message) => {
    expect(() => parseMatchers(text)).toThrow(message);
  });

  it('names the matcher whose regex is broken', () => {
    expect(() => parseMatchers('ok="1", job=~"(api"')).toThrow(/job=~"\(api".*missing closing \)/);
    expect(() => parseMatchers('ok="1", job=~"(api"')).toThrow(MatcherError);
  });
});

describe('parseMatcher', () => {
  it('takes exactly one matcher without braces', () => {
    expect(plain([parseMatcher('severity="critical"')])).toEqual([m('severity', '=', 'critical')]);
    expect(() => parseMatcher('{a="b"}')).toThrow(/braces/);
    expect(() => parseMatcher('a="b",c="d"')).toThrow(/one matcher, found 2/);
  });
});

describe('matches', () => {
  const labels = { alertname: 'HighLatency', severity: 'critical', service: 'api-gateway' };

  it('treats a missing label as the empty string', () => {
    expect(matches(parseMatchers('team=""'), labels)).toBe(true);
    expect(matches(parseMatchers('team!=""'), labels)).toBe(false);
    expect(matches(parseMatchers('severity!=""'), labels)).toBe(true);
    expect(matches(parseMatchers('team=~"a|"'), labels)).toBe(true);
  });

  it('anchors regexes at both ends', () => {
    expect(matches(parseMatchers('service=~"api"'), labels)).toBe(false);
    expect(matches(parseMatchers('service=~"api.*"'), labels)).toBe(true);
    expect(matches(parseMatchers('service=~"gateway|api-.*"'), labels)).toBe(true);
    expect(matches(parseMatchers('service!~"api.*"'), labels)).toBe(false);
  });

  it('needs every matcher', () => {
    expect(matches(parseMatchers('severity="critical", alertname=~"High.*"'), labels)).toBe(true);
    expect(matches(parseMatchers('severity="critical", alertname="Other"'), labels)).toBe(false);
    expect(matches([], labels)).toBe(true);
  });

  it('follows Go regex syntax', () => {
    expect(matches(parseMatchers('severity=~"(?i)CRIT.*"'), labels)).toBe(true);
    expect(matches(parseMatchers('alertname=~"[[:upper:]][[:alpha:]]+"'), labels)).toBe(true);
    expect(matches(parseMatchers('service=~"api\\\\-gateway"'), labels)).toBe(true);
  });

  it('builds matchers from the legacy maps', () => {
    const legacy = matchersFromMaps({ severity: 'critical' }, { service: 'api-.*' });
    expect(plain(legacy)).toEqual([m('severity', '=', 'critical'), m('service', '=~', 'api-.*')]);
    expect(matches(legacy, labels)).toBe(true);
    expect(() => matchersFromMaps(undefined, { service: '[' })).toThrow(/service=~"\["/);
  });
});

describe('printing', () => {
  it('quotes values and names that need it', () => {
    expect(matcherToString(m('a', '=~', 'x"y'))).toBe('a=~"x\\"y"');
    expect(matcherToString(m('service.name', '=', 'api'))).toBe('"service.name"="api"');
    expect(matchersToString([m('a', '=', 'b'), m('c', '!=', 'd')])).toBe('{a="b",c!="d"}');
  });

  it('prints what parses back to the same matchers', () => {
    const list = parseMatchers('{a="x\\"y", "b.c"=~"1|2", d!=""}');
    expect(plain(parseMatchers(matchersToString(list)))).toEqual(plain(list));
  });
});

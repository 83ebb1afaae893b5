/** blackbox's checks of a DNS response: its response code and the records of each section against regexps. */
import { runGoRegexp } from '../go-regexp/isolation.ts';
import type { RrValidator } from './dns-config.ts';
import { DNS_RCODES, rcodeName } from './dns-names.ts';
import type { DnsRecord } from './dns-wire.ts';

export function rcodeFailure(rcode: number, valid: readonly string[]): string | undefined {
  if (valid.some((name) => DNS_RCODES[name] === rcode)) return undefined;
  return `rcode ${rcodeName(rcode)}, expected ${valid.join(' or ')}`;
}

/**
 * validRRs: any record matching fail_if_matches, every record matching
 * fail_if_all_match, any record not matching fail_if_not_matches, or no
 * record matching fail_if_none_matches fails; the last two also fail when
 * there are no records at all. Throws RegexpTimeoutError when a pattern runs out of time.
 */
export async function recordsFailure(
  section: string,
  records: readonly DnsRecord[],
  validator: RrValidator,
  timeoutMs: number,
): Promise<string | undefined> {
  const matches = async (pattern: string, record: DnsRecord) =>
    (await runGoRegexp({ op: 'match', pattern, text: record.text }, timeoutMs)) as boolean;
  const required = [...validator.fail_if_not_matches_regexp, ...validator.fail_if_none_matches_regexp];
  if (records.length === 0 && required.length > 0) return `no ${section} records to match /${required[0]}/`;
  const allMatch = new Set(validator.fail_if_all_match_regexp);
  const noneMatched = new Set(validator.fail_if_none_matches_regexp);
  for (const record of records) {
    for (const pattern of validator.fail_if_matches_regexp) {
      if (await matches(pattern, record)) return `${section} record matched /${pattern}/: ${record.text}`;
    }
    for (const pattern of allMatch) if (!(await matches(pattern, record))) allMatch.delete(pattern);
    for (const pattern of validator.fail_if_not_matches_regexp) {
      if (!(await matches(pattern, record)))
        return `${section} record did not match /${pattern}/: ${record.text}`;
    }
    for (const pattern of noneMatched) if (await matches(pattern, record)) noneMatched.delete(pattern);
  }
  const [everyMatched] = allMatch;
  if (everyMatched !== undefined && records.length > 0)
    return `every ${section} record matched /${everyMatched}/`;
  const [unmatched] = noneMatched;
  if (unmatched !== undefined) return `no ${section} record matched /${unmatched}/`;
  return undefined;
}

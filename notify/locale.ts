import { englishMarker, type TruncationMarker } from './bytes.ts';
import type { Severity } from './message.ts';

export const LOCALES = ['en', 'zh'] as const;
export type Locale = (typeof LOCALES)[number];

/** The words Lookout itself adds to a message, in the group's language. */
export interface Strings {
  severity: Record<Severity, string>;
  resolved: string;
  time: string;
  details: string;
  /** Header of a message that merges queued ones. */
  digest: (count: number) => string;
  truncated: TruncationMarker;
}

export const STRINGS: Record<Locale, Strings> = {
  en: {
    severity: { critical: 'Critical', warning: 'Warning', info: 'Info' },
    resolved: 'Resolved',
    time: 'Time',
    details: 'Details',
    digest: (count) => `${count} more alerts`,
    truncated: englishMarker,
  },
  zh: {
    severity: { critical: '严重', warning: '警告', info: '提示' },
    resolved: '已恢复',
    time: '时间',
    details: '查看详情',
    digest: (count) => `另有 ${count} 条告警`,
    truncated: (cut) => `…（已截断，还有 ${cut} 字节）`,
  },
};

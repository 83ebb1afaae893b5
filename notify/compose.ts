import { byteLength, prefixWithin, split, truncate } from './bytes.ts';
import type { RobotConfig } from './config.ts';
import { STRINGS } from './locale.ts';
import {
  mergeMentions,
  NO_MENTIONS,
  type Notification,
  type Outgoing,
  type ResolvedMentions,
  type TemplateKind,
} from './message.ts';
import { type RobotApi, roomForText } from './robot-api.ts';
import { type RenderedText, Templates } from './template.ts';

/** A title is a notification preview and a digest line, not a place for a stack trace. */
const TITLE_LIMIT = 256;
const MIN_PART_BYTES = 64;

/** One message waiting in a robot's queue, already fitted into the robot's limit. */
export interface Entry {
  outgoing: Outgoing;
  key?: string;
  enqueuedAt: number;
  /** Already cut shorter after the robot answered "too long"; a second such answer is final. */
  shrunk: boolean;
  /** A digest made because the outbox was full: the titles it stands for, listed again if it is merged further. */
  titles?: string[];
}

export interface Composed {
  entries: Entry[];
  /** The text had to be cut or split to fit. */
  fitted: boolean;
  /** A template failed at run time and the plain text was used. */
  templateError?: string;
}

function clip(text: string, limit: number): string {
  return byteLength(text, 'utf8') <= limit ? text : `${prefixWithin(text, limit - 3, 'utf8')}…`;
}

function templateKind(config: RobotConfig): TemplateKind {
  if (config.msgtype === 'text') return 'text';
  return config.type === 'wecom' ? 'wecom-markdown' : 'markdown';
}

const partLabel = (index: number, count: number) => `(${index}/${count})`;

/** Turns notifications into the messages one robot sends: rendered, mentioned, fitted. */
export class Composer {
  private readonly config: RobotConfig;
  private readonly api: RobotApi;
  private readonly templates: Templates;
  private readonly kind: TemplateKind;

  constructor(config: RobotConfig, api: RobotApi) {
    this.config = config;
    this.api = api;
    this.kind = templateKind(config);
    this.templates = new Templates({
      kind: this.kind,
      locale: config.locale,
      timeZone: config.timeZone,
      ...config.template,
    });
  }

  private get words() {
    return STRINGS[this.config.locale];
  }

  private mentionsFor(n: Notification): ResolvedMentions {
    const { severities, ...robotMentions } = this.config.mentions;
    const applies = !severities || severities.includes(n.severity ?? 'info');
    return mergeMentions(applies ? robotMentions : undefined, n.mentions);
  }

  compose(n: Notification, now: number): Composed {
    const rendered: RenderedText = n.formatted?.[this.kind] ?? this.templates.render(n, now);
    const outgoing: Outgoing = {
      title: clip(rendered.title, TITLE_LIMIT),
      text: rendered.text,
      mentions: this.mentionsFor(n),
      url: n.url,
    };
    const fitted = this.fit(outgoing);
    return {
      entries: fitted.map((o) => ({ outgoing: o, key: n.key, enqueuedAt: now, shrunk: false })),
      fitted: fitted[0] !== outgoing,
      templateError: rendered.error,
    };
  }

  /** The message itself when it fits the robot's limit; else truncated, or split into numbered parts. */
  private fit(outgoing: Outgoing): Outgoing[] {
    const { encoding } = this.api;
    const room = roomForText(this.api, outgoing);
    if (byteLength(outgoing.text, encoding) <= room) return [outgoing];
    // Room for the widest label any part can get, in the title and in front of the text.
    const { maxParts } = this.config;
    const widest = partLabel(maxParts, maxParts);
    const partRoom =
      roomForText(this.api, { ...outgoing, title: `${outgoing.title} ${widest}` }) -
      byteLength(`${widest} `, encoding);
    // Mentions of hundreds of people could leave no room for parts at all; one truncated message still goes.
    if (!this.config.split || partRoom < MIN_PART_BYTES) {
      return [{ ...outgoing, text: truncate(outgoing.text, room, encoding, this.words.truncated) }];
    }
    const parts = split(outgoing.text, partRoom, encoding, maxParts, this.words.truncated);
    return parts.map((part, i) => {
      const label = partLabel(i + 1, parts.length);
      // Mention people once, not once per part.
      const mentions = i === 0 ? outgoing.mentions : NO_MENTIONS;
      return { ...outgoing, title: `${outgoing.title} ${label}`, text: `${label} ${part}`, mentions };
    });
  }

  /** The entry cut to half its size, after the robot answered "too long" to what should have fitted. */
  shrink(entry: Entry): Entry {
    const { text } = entry.outgoing;
    const half = Math.floor(byteLength(text, this.api.encoding) / 2);
    const shorter = truncate(text, half, this.api.encoding, this.words.truncated);
    return { ...entry, outgoing: { ...entry.outgoing, text: shorter }, shrunk: true };
  }

  /**
   * One message standing for several queued ones: a header and one line per
   * title, as many as fit. `count` says how many of `entries` it covers (the
   * rest stay queued for the next digest), `titles` what it lists.
   */
  digest(
    entries: readonly Entry[],
    shrink: boolean,
  ): { outgoing: Outgoing; count: number; titles: string[] } {
    const { encoding } = this.api;
    const mentions = mergeMentions(...entries.map((e) => e.outgoing.mentions));
    const header = (count: number) => `${this.words.digest(count)}:\n\n`;
    const titlesOf = (e: Entry) => e.titles ?? [e.outgoing.title];
    const widest = this.words.digest(entries.reduce((n, e) => n + titlesOf(e).length, 0));
    let room =
      roomForText(this.api, { title: widest, text: '', mentions }) - byteLength(`${widest}:\n\n`, encoding);
    if (shrink) room = Math.floor(room / 2);
    const titles: string[] = [];
    let lines = '';
    let count = 0;
    for (const entry of entries) {
      const own = titlesOf(entry);
      const more = own.map((title, i) => `${titles.length + i > 0 ? '\n' : ''}- ${title}`).join('');
      if (byteLength(lines + more, encoding) > room) break;
      lines += more;
      titles.push(...own);
      count++;
    }
    if (count === 0) {
      count = 1;
      titles.push(...titlesOf(entries[0]!));
      lines = truncate(titles.map((title) => `- ${title}`).join('\n'), room, encoding);
    }
    // Room was reserved for everyone's mentions; only those of the entries it covers are mentioned.
    const covered = mergeMentions(...entries.slice(0, count).map((e) => e.outgoing.mentions));
    const title = this.words.digest(titles.length);
    return { outgoing: { title, text: header(titles.length) + lines, mentions: covered }, count, titles };
  }
}

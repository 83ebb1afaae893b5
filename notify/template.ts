import Handlebars from 'handlebars';
import { type Locale, STRINGS, type Strings } from './locale.ts';
import type { Notification, Severity, TemplateKind } from './message.ts';

// Handlebars without HTML escaping: the output is chat text and markdown, and
// JSON escaping happens later, when the payload object is serialised.
const engine = Handlebars.create();

/** Why a template does not compile, or undefined when it does. */
export function templateError(source: string): string | undefined {
  try {
    engine.parse(source);
    return undefined;
  } catch (err) {
    // Handlebars says where (line, source, caret) and then lists every token it expected: keep where and what it got.
    const [where, source, , expected] = (err as Error).message.split('\n');
    const got = expected?.match(/got '[^']*'$/)?.[0];
    return [where, source && JSON.stringify(source), got].filter(Boolean).join(' ');
  }
}

/** The values a template can use. */
export interface TemplateContext {
  title: string;
  text: string;
  severity: Severity;
  status: 'firing' | 'resolved';
  /** Icon and word for the severity, or for "resolved". */
  badge: string;
  /** WeCom markdown font colour matching the badge: warning (orange), info (green) or comment (grey). */
  color: 'warning' | 'info' | 'comment';
  /** Undefined when there are none, so `{{#if fields}}` works. */
  fields?: Readonly<Record<string, string | number | boolean>>;
  url?: string;
  /** Formatted in the robot's time zone, e.g. "2024-05-01 20:00:00 GMT+8". */
  time: string;
  key?: string;
}

const ICONS: Record<Severity | 'resolved', string> = {
  critical: '🔴',
  warning: '🟠',
  info: '🔵',
  resolved: '✅',
};

/** "2024-05-01 20:00:00 GMT+8" in `timeZone`; "… UTC" for UTC. */
export function formatTime(time: number, timeZone: string): string {
  const text = new Intl.DateTimeFormat('sv-SE', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
    timeZoneName: 'shortOffset',
  }).format(time);
  return text.replace(/ GMT\+0$/, ' UTC');
}

export function templateContext(
  n: Notification,
  options: { locale: Locale; timeZone: string; now: number },
): TemplateContext {
  const words = STRINGS[options.locale];
  const severity = n.severity ?? 'info';
  const status = n.status ?? 'firing';
  const resolved = status === 'resolved';
  const fields = n.fields && Object.keys(n.fields).length > 0 ? n.fields : undefined;
  return {
    title: n.title,
    text: n.text ?? '',
    severity,
    status,
    badge: resolved
      ? `${ICONS.resolved} ${words.resolved}`
      : `${ICONS[severity]} ${words.severity[severity]}`,
    color: resolved ? 'info' : severity === 'info' ? 'comment' : 'warning',
    fields,
    url: n.url,
    // An invalid Date must not make formatting throw inside send().
    time: formatTime(Number.isFinite(Number(n.time)) ? Number(n.time) : options.now, options.timeZone),
    key: n.key,
  };
}

export type { TemplateKind } from './message.ts';

export interface TemplateSources {
  title: string;
  text: string;
}

/** The built-in templates, with the words of the robot's locale. */
export function defaultTemplates(kind: TemplateKind, words: Strings): TemplateSources {
  const title = '{{badge}} {{title}}';
  if (kind === 'text') {
    return {
      title,
      text: `{{badge}} {{title}}
{{#if text}}
{{text}}
{{/if}}
{{#each fields}}
{{@key}}: {{this}}
{{/each}}
${words.time}: {{time}}
{{#if url}}
{{url}}
{{/if}}`,
    };
  }
  if (kind === 'markdown') {
    return {
      title,
      text: `### {{badge}} {{title}}
{{#if text}}

{{text}}
{{/if}}
{{#if fields}}

{{#each fields}}
- **{{@key}}**: {{this}}
{{/each}}
{{/if}}

${words.time}: {{time}}
{{#if url}}

[${words.details}]({{url}})
{{/if}}`,
    };
  }
  return {
    title,
    text: `**{{title}}**
<font color="{{color}}">{{badge}}</font>
{{#if text}}
{{text}}
{{/if}}
{{#each fields}}
> {{@key}}: <font color="comment">{{this}}</font>
{{/each}}
> ${words.time}: <font color="comment">{{time}}</font>
{{#if url}}
[${words.details}]({{url}})
{{/if}}`,
  };
}

export interface TemplateOptions {
  kind: TemplateKind;
  locale: Locale;
  timeZone: string;
  /** Overrides for the built-in templates. */
  title?: string;
  text?: string;
}

export interface RenderedText {
  title: string;
  text: string;
  /** Set when a template failed at run time and the plain fallback was used instead. */
  error?: string;
}

/** A robot's compiled title and text templates. */
export class Templates {
  private readonly title: HandlebarsTemplateDelegate<TemplateContext>;
  private readonly text: HandlebarsTemplateDelegate<TemplateContext>;
  private readonly options: TemplateOptions;

  constructor(options: TemplateOptions) {
    this.options = options;
    const defaults = defaultTemplates(options.kind, STRINGS[options.locale]);
    const compile = (source: string) => engine.compile<TemplateContext>(source, { noEscape: true });
    this.title = compile(options.title ?? defaults.title);
    this.text = compile(options.text ?? defaults.text);
  }

  render(n: Notification, now: number): RenderedText {
    const context = templateContext(n, { ...this.options, now });
    try {
      return { title: this.title(context).trim(), text: this.text(context).trim() };
    } catch (err) {
      // A broken template must not cost the alert: send the plain facts instead.
      const text = [context.title, context.text, context.url].filter(Boolean).join('\n');
      return { title: context.title, text, error: (err as Error).message };
    }
  }
}

/**
 * Receivers' own messages, written by Go templates as Alertmanager's and
 * prometheus-webhook-dingtalk's are: template files of `{{define}}` blocks,
 * and per receiver a title and a text that may call them.
 */
import path from 'node:path';
import { z } from 'zod';
import { type ConfigError, ConfigInvalidError } from '../../../core/config.ts';
import { type ReadFilesOptions, readMatchingFiles } from '../../rules/load.ts';
import {
  ALERTMANAGER_FUNCTION_NAMES,
  alertmanagerFunctions,
} from '../../rules/template/alertmanager-functions.ts';
import { BUILTINS } from '../../rules/template/builtins.ts';
import type { TemplateSettings } from '../../rules/template/config.ts';
import { executeTemplate } from '../../rules/template/exec.ts';
import {
  mergeTemplates,
  missingTemplates,
  type ParsedTemplate,
  parseTemplate,
} from '../../rules/template/parse.ts';
import type { AlertTemplate } from './notification.ts';
import { templateData } from './template-data.ts';

/** Alertmanager names the template it parses a receiver's text as "" (errors read `template: :1:5: ...`). */
const MESSAGE = '';

/** `text` parsed as template `name` (a file's base name, or a message's ""), or Go's parse error. */
function parse(name: string, text: string): ParsedTemplate | string {
  try {
    return parseTemplate(name, text, ALERTMANAGER_FUNCTION_NAMES);
  } catch (err) {
    return (err as Error).message;
  }
}

const goTemplate = () =>
  z
    .string()
    .min(1)
    .superRefine((text, ctx) => {
      const parsed = parse(MESSAGE, text);
      if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
    });

export const messageTemplateSchema = z.strictObject({
  /** The notification's title (what a phone's notification shows); unset: the text's first line. */
  title: goTemplate().optional(),
  /** The message, sent as written to every robot format. */
  text: goTemplate(),
});

export type MessageTemplateConfig = z.output<typeof messageTemplateSchema>;

/**
 * The template files `patterns` match, parsed into one set as Alertmanager's
 * `templates` are: each file under its base name, a later definition
 * replacing an earlier one. A missing named file, a file that is not UTF-8
 * or that does not parse is refused with the file and Go's reason.
 */
export async function loadTemplateFiles(
  patterns: readonly string[],
  options: ReadFilesOptions,
): Promise<ParsedTemplate> {
  const { files, problems } = await readMatchingFiles(patterns, options);
  const sets: ParsedTemplate[] = [];
  for (const { file, text } of files) {
    const parsed = parse(path.basename(file), text);
    if (typeof parsed === 'string') problems.push({ file, message: parsed });
    else sets.push(parsed);
  }
  if (problems.length > 0) {
    throw new ConfigInvalidError(
      'template files',
      problems.map((p) => ({ path: p.file, message: p.message })),
    );
  }
  return mergeTemplates(...sets);
}

export interface MessageTemplateOptions {
  /** Output, step, nesting, time and regular expression limits (alertRules.templates). */
  settings: TemplateSettings;
  /** Where `since` counts from; the system clock unless set. */
  now?: () => number;
}

/** "### [FIRING:2] Down" → "[FIRING:2] Down": a title is one line, without markdown heading marks. */
function titleLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? '';
  return line.replace(/^\s*#*\s*/, '').trim();
}

/**
 * Compiles the message of each receiver (or robot) that has one, with the
 * template files: a text or title that does not parse, or that calls a
 * template no file defines, is refused with its path under `where` (say
 * `alertRules.routing.receivers`) and the reason.
 */
export function compileMessageTemplates(
  files: ParsedTemplate,
  owners: Readonly<Record<string, { message?: MessageTemplateConfig }>>,
  where: string,
  options: MessageTemplateOptions,
): Map<string, AlertTemplate> {
  const errors: ConfigError[] = [];
  const compiled = new Map<string, AlertTemplate>();
  const compile = (text: string, at: string): ParsedTemplate | undefined => {
    const parsed = parse(MESSAGE, text);
    if (typeof parsed === 'string') return void errors.push({ path: at, message: parsed });
    const set = mergeTemplates(files, parsed);
    for (const name of missingTemplates(set, MESSAGE)) {
      errors.push({
        path: at,
        message: `calls template ${JSON.stringify(name)}, which no template file defines`,
      });
    }
    return set;
  };
  for (const [name, { message }] of Object.entries(owners)) {
    if (!message) continue;
    const at = `${where}.${name}.message`;
    const text = compile(message.text, `${at}.text`);
    const title = message.title === undefined ? undefined : compile(message.title, `${at}.title`);
    if (text) compiled.set(name, messageTemplate(text, title, options));
  }
  if (errors.length > 0) throw new ConfigInvalidError('message templates', errors);
  return compiled;
}

function messageTemplate(
  text: ParsedTemplate,
  title: ParsedTemplate | undefined,
  options: MessageTemplateOptions,
): AlertTemplate {
  const { settings, now = Date.now } = options;
  const functions = new Map([
    ...BUILTINS,
    ...alertmanagerFunctions({ regexpTimeoutMs: settings.regexpTimeoutMs, now }),
  ]);
  return async (group) => {
    const data = templateData(group);
    const deadline = AbortSignal.timeout(settings.messageTimeoutMs);
    const run = (set: ParsedTemplate) => executeTemplate(set, MESSAGE, data, functions, settings, deadline);
    const written = await run(text);
    if (written.trim() === '') throw new Error('the text template wrote nothing');
    const heading = title ? titleLine(await run(title)) : '';
    return { title: heading || titleLine(written), text: written };
  };
}

import { glob, open } from 'node:fs/promises';
import path from 'node:path';
import type { RuleGroupSpec } from '../types.ts';
import {
  formatRuleFileProblem,
  parseRuleFile,
  type RuleFileOptions,
  type RuleFileProblem,
} from './rule-file.ts';

export const DEFAULT_MAX_RULE_FILE_BYTES = 10 * 1024 * 1024;

/** Where file patterns start and how large a matched file may be. */
export interface ReadFilesOptions {
  /** Relative patterns are relative to this directory. */
  baseDir: string;
  /** A larger file is refused unread. */
  maxFileBytes?: number;
}

export interface LoadRuleFilesOptions extends RuleFileOptions, ReadFilesOptions {}

/** Everything wrong with a set of rule files, one problem per line. */
export class RuleFilesInvalidError extends Error {
  readonly problems: RuleFileProblem[];
  constructor(problems: RuleFileProblem[]) {
    super(`${problems.length} problem(s) in rule files\n${problems.map(formatRuleFileProblem).join('\n')}`);
    this.name = 'RuleFilesInvalidError';
    this.problems = problems;
  }
}

const GLOB_CHARS = /[*?[]/;

export interface MatchedFile {
  file: string;
  text: string;
}

/**
 * The files that glob `patterns` match, in pattern order and sorted within
 * a pattern, read as UTF-8: a named file that is missing, too large or not
 * UTF-8 is a problem, a glob matching nothing is not.
 */
export async function readMatchingFiles(
  patterns: readonly string[],
  options: ReadFilesOptions,
): Promise<{ files: MatchedFile[]; problems: RuleFileProblem[] }> {
  const problems: RuleFileProblem[] = [];
  const names = new Set<string>();
  for (const pattern of patterns) {
    const matches: string[] = [];
    for await (const match of glob(pattern, { cwd: options.baseDir })) matches.push(match);
    matches.sort();
    // A glob matching nothing is fine, as in Prometheus (say, an empty ConfigMap), but a named file must exist.
    if (matches.length === 0 && !GLOB_CHARS.test(pattern)) {
      problems.push({ file: pattern, message: 'no such file' });
    }
    for (const file of matches) names.add(file);
  }
  const files: MatchedFile[] = [];
  for (const file of names) {
    const text = await readFile(file, options, problems);
    if (text !== undefined) files.push({ file, text });
  }
  return { files, problems };
}

/**
 * Reads the rule files that `patterns` (like Prometheus's `rule_files`)
 * match. All or nothing, and nothing else changes: on any problem it throws
 * one error listing every problem of every file, so a reload that fails
 * leaves the rules in force untouched.
 */
export async function loadRuleFiles(
  patterns: readonly string[],
  options: LoadRuleFilesOptions,
): Promise<RuleGroupSpec[]> {
  const { files, problems } = await readMatchingFiles(patterns, options);
  const groups: RuleGroupSpec[] = [];
  for (const { file, text } of files) {
    const parsed = parseRuleFile(file, text, options);
    problems.push(...parsed.problems);
    groups.push(...parsed.groups);
  }
  if (problems.length > 0) throw new RuleFilesInvalidError(problems);
  return groups;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

async function readFile(
  file: string,
  options: ReadFilesOptions,
  problems: RuleFileProblem[],
): Promise<string | undefined> {
  const limit = options.maxFileBytes ?? DEFAULT_MAX_RULE_FILE_BYTES;
  const tooLarge = (size: number) =>
    problems.push({ file, message: `the file has ${size} bytes, more than the limit of ${limit}` });
  try {
    await using handle = await open(path.resolve(options.baseDir, file));
    const { size } = await handle.stat();
    if (size > limit) return void tooLarge(size);
    const bytes = await handle.readFile();
    // It may have grown since the stat.
    if (bytes.length > limit) return void tooLarge(bytes.length);
    return utf8.decode(bytes);
  } catch (err) {
    const message = err instanceof TypeError ? 'the file is not valid UTF-8' : (err as Error).message;
    problems.push({ file, message });
    return undefined;
  }
}

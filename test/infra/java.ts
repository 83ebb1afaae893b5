import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { onPath } from './exec.ts';

/** The machine's Java: $JAVA_HOME when it holds one, else the one `java` on PATH belongs to. */
export function javaHome(): string {
  const fromEnv = process.env.JAVA_HOME;
  if (fromEnv && existsSync(path.join(fromEnv, 'bin', 'java'))) return fromEnv;
  const java = onPath('java');
  if (!java) throw new Error('no Java found: install a JDK 17 or newer, or set JAVA_HOME');
  return path.dirname(path.dirname(realpathSync(java)));
}

export function javaBinary(): string {
  return path.join(javaHome(), 'bin', 'java');
}

/**
 * JVM options that keep what a JVM writes of its own inside `tmp`: temporary files (java.io.tmpdir would
 * be the system's), and no hsperfdata files, which HotSpot always puts in the system temporary directory
 * and leaves there when the JVM is killed.
 */
export function jvmTempOptions(tmp: string): string[] {
  return [`-Djava.io.tmpdir=${tmp}`, '-XX:-UsePerfData'];
}

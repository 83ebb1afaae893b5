const STACK_FRAME = /^\s+at \S/;
const FRAMES_KEPT = 3;

/**
 * The last `count` lines of a server log. Java stack traces are folded to their first frames first: a JVM
 * that failed to boot would otherwise fill the whole tail with frames and hide the message that matters.
 */
export function tailLines(text: string, count = 40): string {
  const folded: string[] = [];
  let frames = 0;
  for (const line of text.split('\n')) {
    if (STACK_FRAME.test(line)) {
      frames += 1;
      if (frames <= FRAMES_KEPT) folded.push(line);
      continue;
    }
    if (frames > FRAMES_KEPT) folded.push(`\t... ${frames - FRAMES_KEPT} more frames`);
    frames = 0;
    folded.push(line);
  }
  if (frames > FRAMES_KEPT) folded.push(`\t... ${frames - FRAMES_KEPT} more frames`);
  while (folded.length > 0 && folded.at(-1)?.trim() === '') folded.pop();
  return folded.slice(-count).join('\n');
}

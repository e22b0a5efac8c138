/**
 * The longest console line handed out, in characters. A guest decides what it
 * writes: a line longer than this (or no newline at all) is cut into pieces of
 * this size, each but the last marked with CONSOLE_CUT_MARK, so the follower
 * never holds more than one piece and no stream reader gets a line that could
 * outgrow its backlog.
 */
export const MAX_CONSOLE_LINE = 16 * 1024;
/** Ends a piece of a console line that goes on in the next piece. */
export const CONSOLE_CUT_MARK = ' [line cut: continues]';

/** `text` with every line longer than MAX_CONSOLE_LINE cut into marked pieces, one per line (console output served whole). */
export function cutLongLines(text: string): string {
  if (text.length <= MAX_CONSOLE_LINE) return text;
  return text
    .split('\n')
    .map((line) => {
      if (line.length <= MAX_CONSOLE_LINE) return line;
      const pieces: string[] = [];
      for (let at = 0; at < line.length; at += MAX_CONSOLE_LINE) pieces.push(line.slice(at, at + MAX_CONSOLE_LINE));
      return pieces.join(`${CONSOLE_CUT_MARK}\n`);
    })
    .join('\n');
}

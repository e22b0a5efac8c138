import { execa } from 'execa';

/** The Go manager's metric names, kept as they are for its dashboards, which promtool's naming rules flag. */
const UPSTREAM_NAMES = ['manager_api_request_count', 'manager_api_request_latency_microseconds'];

/**
 * `promtool check metrics` on a scrape: the problems it reports, leaving out
 * the naming remarks on the two upstream families (exit 3 is "lint problems";
 * anything else unparsable is reported too).
 */
export async function promtoolProblems(scrape: string): Promise<string[]> {
  const result = await execa('promtool', ['check', 'metrics'], { input: scrape, reject: false, all: true });
  if (result.exitCode !== 0 && result.exitCode !== 3) return [`promtool exited ${result.exitCode}: ${result.all}`];
  return (result.all ?? '')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .filter((line) => !UPSTREAM_NAMES.some((name) => line.startsWith(`${name} `)));
}

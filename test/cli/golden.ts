// Golden files pin what the CLI prints to a pipe. Ids, times, durations and ports change run to run, so they are
// replaced by placeholders before comparing. UPDATE_GOLDEN=1 rewrites the files instead (review the diff!).
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { CliResult } from './cliHarness.js';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden');

export function normalize(text: string, extra: [RegExp | string, string][] = []): string {
  let t = text;
  for (const [from, to] of extra) t = t.split(from as string).join(to);
  return (
    t
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<ID>')
      .replace(/http:\/\/127\.0\.0\.1:\d+/g, '<URL>')
      .replace(/\.apps\.localhost:\d+/g, '.apps.localhost:<PORT>')
      .replace(/\bjust now\b|\b\d+[smhd] ago\b/g, '<AGO>')
      .replace(/\b\d+(\.\d+)?(ms|s)\b|\b\d+m\d\ds\b|\b\d+h\d\dm\b/g, '<DUR>')
      .split('\n')
      // Placeholders change cell widths: table rows (and headers) are compared by content, not by padding.
      .map((line) => (/<(AGO|DUR|ID)>/.test(line) || /^[A-Z]+( +[A-Z]+)+$/.test(line) ? line.replace(/(\S) {2,}/g, '$1  ') : line))
      .join('\n')
  );
}

/** Formats a run as a transcript: the command, its exit code, stdout and stderr. */
export function transcript(argv: string[], r: CliResult): string {
  return [`$ kiln ${argv.join(' ')}`, `[exit ${r.code}]`, '--- stdout', r.stdout.trimEnd(), '--- stderr', r.stderr.trimEnd(), ''].join('\n');
}

export async function expectGolden(name: string, actual: string): Promise<void> {
  const file = path.join(DIR, `${name}.txt`);
  if (process.env.UPDATE_GOLDEN === '1') {
    await mkdir(DIR, { recursive: true });
    await writeFile(file, actual);
    return;
  }
  let expected: string;
  try {
    expected = await readFile(file, 'utf8');
  } catch {
    assert.fail(`golden file ${path.relative(process.cwd(), file)} is missing: run the test with UPDATE_GOLDEN=1 to create it`);
  }
  assert.equal(actual, expected, `output differs from ${path.relative(process.cwd(), file)} (UPDATE_GOLDEN=1 rewrites it)`);
}

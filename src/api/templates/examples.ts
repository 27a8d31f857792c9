import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { TemplateExample } from '../../sdk/types/templates.js';

/** The repository's `examples/` directory: kiln ships it next to `dist/` (and `src/` when run from source). */
const EXAMPLES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../examples');

let cached: Promise<TemplateExample[]> | undefined;

/**
 * kiln's example templates in Coder's `TemplateExample` shape: one per directory of `examples/` that has a README;
 * the name and description are the README's title and its first paragraph. Read once; a missing directory is no examples.
 */
export function listExamples(): Promise<TemplateExample[]> {
  cached ??= (async () => {
    let dirs: string[];
    try {
      dirs = (await readdir(EXAMPLES_DIR, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    } catch {
      return [];
    }
    const out: TemplateExample[] = [];
    for (const id of dirs) {
      let markdown: string;
      try {
        markdown = await readFile(path.join(EXAMPLES_DIR, id, 'README.md'), 'utf8');
      } catch {
        continue;
      }
      const title = /^#\s+(.+)$/m.exec(markdown)?.[1]?.trim() ?? id;
      const paragraphs = markdown.split(/\n\s*\n/).map((p) => p.trim()).filter((p) => p && !p.startsWith('#'));
      out.push({ id, url: '', name: title.split(':')[0]?.trim() ?? id, description: (paragraphs[0] ?? '').replace(/\s+/g, ' '), icon: '', tags: ['local'], markdown });
    }
    return out;
  })();
  return cached;
}

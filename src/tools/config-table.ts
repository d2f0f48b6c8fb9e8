/**
 * Prints the README's configuration table: `node dist/src/tools/config-table.js`.
 * With `--write README.md` it replaces the table between the config markers in that file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { variablesMarkdown } from '../config.js';

const table = variablesMarkdown();
const target = process.argv[2] === '--write' ? process.argv[3] : undefined;
if (target) {
  const text = readFileSync(target, 'utf8');
  const start = '<!-- config:start -->';
  const end = '<!-- config:end -->';
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from === -1 || to === -1) throw new Error(`${target} has no ${start} ... ${end} markers`);
  writeFileSync(target, `${text.slice(0, from + start.length)}\n${table}\n${text.slice(to)}`);
} else {
  process.stdout.write(table + '\n');
}

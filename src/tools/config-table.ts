/** Prints the README's configuration table: `node dist/src/tools/config-table.js`. */
import { loadConfig, variablesMarkdown } from '../config.js';

loadConfig({ JWT_SECRET: 'x'.repeat(32) });
process.stdout.write(variablesMarkdown() + '\n');

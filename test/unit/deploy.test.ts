import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/services.js';

describe('deployment files', () => {
  it('prometheus config passes promtool check config', () => {
    const out = execFileSync('promtool', ['check', 'config', join(ROOT, 'deploy', 'prometheus.yml')], { encoding: 'utf8' });
    expect(out).toContain('SUCCESS');
  });

  it('the README configuration table is the one the config module generates', () => {
    const table = execFileSync(process.execPath, [join(ROOT, 'dist', 'src', 'tools', 'config-table.js')], { encoding: 'utf8' }).trim();
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(table);
  });

  it('docker-compose runs two gateway nodes on Redis and mongo:7 scraped by prometheus', () => {
    const compose = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    expect(compose).toContain('image: mongo:7');
    expect(compose).toMatch(/gateway-1:[\s\S]*gateway-2:/);
    expect(readFileSync(join(ROOT, 'deploy', 'prometheus.yml'), 'utf8')).toContain('"gateway-1:8080", "gateway-2:8080"');
  });
});

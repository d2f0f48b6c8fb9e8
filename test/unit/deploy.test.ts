import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../support/services.js';

describe('deployment files', () => {
  it('prometheus config passes promtool check config', () => {
    const out = execFileSync('promtool', ['check', 'config', join(ROOT, 'deploy', 'prometheus.yml')], { encoding: 'utf8' });
    expect(out).toContain('SUCCESS');
  });

  it('the alert rules pass their promtool unit tests (each alert fires on its trigger and not on normal series)', () => {
    const out = execFileSync('promtool', ['test', 'rules', join(ROOT, 'deploy', 'prometheus', 'alerts.test.yml')], { encoding: 'utf8' });
    expect(out).toContain('SUCCESS');
    const tested = new Set([...readFileSync(join(ROOT, 'deploy', 'prometheus', 'alerts.test.yml'), 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1]));
    const defined = [...readFileSync(join(ROOT, 'deploy', 'prometheus', 'alerts.yml'), 'utf8').matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    // Every rule on gateway metrics has a unit test (LivegateNodeDown is on Prometheus' own `up`).
    expect(defined.filter((a) => !tested.has(a))).toEqual(['LivegateNodeDown']);
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
    expect(readFileSync(join(ROOT, 'deploy', 'prometheus.yml'), 'utf8')).toMatch(/targets: \[['"]gateway-1:8080['"], ['"]gateway-2:8080['"]\]/);
  });

  interface Service {
    image?: string;
    build?: unknown;
    command?: string[];
    environment?: Record<string, string>;
    ports?: string[];
    volumes?: string[];
    depends_on?: Record<string, { condition: string }> | string[];
    healthcheck?: { test: string[] };
    restart?: string;
  }
  const compose = (): Record<string, Service> =>
    (parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> }).services;

  it('docker-compose passes `docker-compose config` (the client installed by scripts/deps.sh; no engine needed)', () => {
    const plugin = (() => {
      try {
        execFileSync('docker', ['compose', 'version'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    })();
    const [cmd, args] = plugin ? ['docker', ['compose', 'config', '-q']] : ['docker-compose', ['config', '-q']];
    // Throws (and fails the test) on an invalid file; -q prints nothing when it is valid.
    expect(execFileSync(cmd as string, args as string[], { cwd: ROOT, encoding: 'utf8' })).toBe('');
  });

  it('docker-compose: gateways have a /readyz healthcheck and wait for the one-shot seed', () => {
    const services = compose();
    for (const name of ['gateway-1', 'gateway-2']) {
      const gw = services[name]!;
      expect(gw.healthcheck?.test.join(' '), name).toContain('http://127.0.0.1:8080/readyz');
      expect(gw.depends_on, name).toMatchObject({
        seed: { condition: 'service_completed_successfully' },
        redis: { condition: 'service_healthy' },
        mongo: { condition: 'service_healthy' },
      });
    }
    expect(services['gateway-2']!.environment).toMatchObject({ NODE_ID: 'gateway-2', TRUST_PROXY: 'true' });
    const seed = services['seed']!;
    expect(seed.command).toEqual(['node', 'dist/src/tools/seed.js']);
    expect(seed.restart).toBe('no');
    expect(seed.environment).toMatchObject({ MONGO_URL: 'mongodb://mongo:27017', REDIS_URL: 'redis://redis:6379' });
  });

  it('docker-compose: one entry point (nginx) in front of both nodes, passing WebSocket upgrades', () => {
    const entry = compose()['entry']!;
    expect(entry.image).toMatch(/^nginx:/);
    expect(entry.ports).toEqual(['8080:8080']);
    expect(entry.volumes).toContain('./deploy/nginx/nginx.conf:/etc/nginx/nginx.conf:ro');
    expect(entry.depends_on).toMatchObject({ 'gateway-1': { condition: 'service_healthy' }, 'gateway-2': { condition: 'service_healthy' } });
    const conf = readFileSync(join(ROOT, 'deploy', 'nginx', 'nginx.conf'), 'utf8');
    expect(conf).toContain('server gateway-1:8080');
    expect(conf).toContain('server gateway-2:8080');
    expect(conf).toContain('listen 8080;');
    expect(conf).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
    expect(conf).toMatch(/proxy_set_header Connection \$connection_upgrade;/);
    // What it does with real sockets: test/gateway/entry-point.test.ts.
  });

  it('docker-compose: Prometheus loads the alert rules and Grafana provisions the dashboard on the provisioned datasource', () => {
    const services = compose();
    expect(services['prometheus']!.volumes).toContain('./deploy/prometheus:/etc/prometheus/prometheus:ro');
    expect(readFileSync(join(ROOT, 'deploy', 'prometheus.yml'), 'utf8')).toContain('- prometheus/alerts.yml');
    const grafana = services['grafana']!.volumes ?? [];
    expect(grafana).toEqual(
      expect.arrayContaining([
        './deploy/grafana/dashboards.yml:/etc/grafana/provisioning/dashboards/livegate.yml:ro',
        './deploy/grafana:/var/lib/grafana/dashboards:ro',
      ]),
    );
    const provider = parse(readFileSync(join(ROOT, 'deploy', 'grafana', 'dashboards.yml'), 'utf8')) as { providers: Array<{ options: { path: string } }> };
    expect(provider.providers[0]!.options.path).toBe('/var/lib/grafana/dashboards');
    const datasource = parse(readFileSync(join(ROOT, 'deploy', 'grafana-datasource.yml'), 'utf8')) as { datasources: Array<{ uid: string }> };
    const dashboard = readFileSync(join(ROOT, 'deploy', 'grafana', 'livegate-dashboard.json'), 'utf8');
    const uids = new Set([...dashboard.matchAll(/"uid": "([^"]+)"/g)].map((m) => m[1]).filter((u) => u !== 'livegate-overview'));
    expect(uids).toEqual(new Set([datasource.datasources[0]!.uid]));
  });
});

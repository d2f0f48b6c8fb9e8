import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

interface LockPackage {
  optionalDependencies?: Record<string, string>;
  dependencies?: Record<string, string>;
}

/**
 * `npm ci` (npm 10 and 11) refuses a lock file that lacks an optional dependency of a locked
 * package, even one for another platform ("Missing: @msgpackr-extract/...-darwin-arm64 from lock
 * file"). npm install on one machine used to record only its own platform's packages; this keeps
 * every platform's optional packages in the lock so users and pipelines on any machine can install.
 */
describe('package-lock.json', () => {
  const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { lockfileVersion: number; packages: Record<string, LockPackage> };

  it('records every optional dependency of every locked package', () => {
    const paths = new Set(Object.keys(lock.packages));
    const missing: string[] = [];
    for (const [path, pkg] of Object.entries(lock.packages)) {
      for (const name of Object.keys(pkg.optionalDependencies ?? {})) {
        // npm resolves a dependency from the package's own node_modules upward to the root.
        const candidates: string[] = [];
        for (let dir = path; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
          candidates.push(dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`);
          if (!dir) break;
        }
        if (!candidates.some((c) => paths.has(c))) missing.push(`${path || '(root)'} -> ${name}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('is a lock file npm 10 and 11 read (lockfileVersion 3)', () => {
    expect(lock.lockfileVersion).toBe(3);
  });
});

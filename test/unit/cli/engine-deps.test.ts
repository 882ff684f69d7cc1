import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { engineDeps, kindOptions } from '../../../src/cli/engine-deps.js';
import { projectRoot } from '../../helpers/env.js';

describe('the kind table', () => {
  it('loads each kind under the name it declares, once, and has every kind in src/steps', async () => {
    const { registry } = engineDeps(kindOptions({ work: '/nonexistent/work' }));
    for (const [name, load] of registry) {
      const kind = await load();
      expect(kind.name).toBe(name);
      expect(await load(), name).toBe(kind);
    }
    // Every module of src/steps that creates a kind is in the table.
    const creators = readdirSync(join(projectRoot, 'src/steps'))
      .filter((f) => /export function create\w+Kind\(/.test(readFileSync(join(projectRoot, 'src/steps', f), 'utf8')))
      .map((f) => f.replace(/\.ts$/, ''))
      .sort();
    expect([...registry.keys()].sort()).toEqual(creators);
  });
});

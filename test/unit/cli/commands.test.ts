import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../src/cli/main.js';
import { projectRoot } from '../../helpers/env.js';

describe('the command table', () => {
  it('lists every file in src/cli/commands, each under the name its command declares', async () => {
    const files = readdirSync(join(projectRoot, 'src/cli/commands')).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, '')).sort();
    expect(Object.keys(COMMANDS).sort()).toEqual(files);
    for (const [name, load] of Object.entries(COMMANDS)) {
      const { command } = await load();
      expect(String(command.command).split(' ')[0], `commands/${name}.ts`).toBe(name);
      // main() hands yargs the builder as a function and runs the handler itself.
      expect(typeof command.builder, `commands/${name}.ts`).toBe('function');
      expect(typeof command.handler, `commands/${name}.ts`).toBe('function');
    }
  });
});

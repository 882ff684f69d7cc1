import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { engineDeps, kindOptions } from '../../../src/cli/engine-deps.js';
import { renderTemplate } from '../../../src/engine/render.js';
import { planRecipe } from '../../../src/engine/session.js';
import type { RunContext } from '../../../src/engine/step-kind.js';
import { projectRoot, tempDir } from '../../helpers/env.js';

/**
 * Every configuration file the gentoo-2025 recipe writes, rendered through the real plan and
 * written by the real write kind into a scratch target, compared byte for byte (and mode) with
 * test/fixtures/gentoo-rehearsal/golden/<triplet>/. The golden files were cut from the guide
 * (../shared/seeds/002_…) with only the documented changes: the sealed FETCHCOMMAND and
 * RESUMECOMMAND, the detected triplet, and the jobs/load numbers given here.
 */

const golden = join(projectRoot, 'test/fixtures/gentoo-rehearsal/golden');
const RECIPE = 'gentoo-2025';

function listFiles(dir: string, skip: (rel: string) => boolean = () => false): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (!skip(relative(dir, path))) out.push(relative(dir, path));
    }
  };
  walk(dir);
  return out.sort();
}

describe('gentoo-2025 configuration files (golden)', () => {
  let scratch: { path: string; remove: () => void } | undefined;
  afterEach(() => scratch?.remove());

  for (const triplet of ['i386-unknown-linux-musl', 'i686-unknown-linux-musl']) {
    it(`writes exactly the golden files for live-bootstrap's ${triplet}`, async () => {
      scratch = tempDir('bootstrap-golden-');
      const target = join(scratch.path, 'target');
      const work = join(scratch.path, 'work');
      // What the detection looks at: live-bootstrap's gcc, named by its triplet.
      mkdirSync(join(target, 'usr/libexec/gcc', triplet), { recursive: true });
      const plan = await planRecipe(
        { recipe: RECIPE, work, given: { target, jobs: '12', load: '14.0', emerge_jobs: '6' } },
        engineDeps(kindOptions({ work, record: true })),
      );
      expect(plan.params.values.lb_chost).toBe(triplet);
      expect(plan.params.sources.lb_chost).toBe('detected');
      const writeSteps = plan.steps.filter((s) => s.kind.name === 'write');
      expect(writeSteps.length).toBeGreaterThan(5);
      for (const step of writeSteps) {
        const ctx = {
          stepId: step.id,
          recipeDir: plan.recipe.dir,
          render: (text: string, where: string) => renderTemplate(text, plan.params.values, where),
          root: step.root,
          roots: plan.roots,
          params: plan.params.values,
          workDir: work,
          log: { path: join(scratch.path, 'log'), write: () => undefined, note: () => undefined },
          signal: new AbortController().signal,
          runScript: () => Promise.reject(new Error('write steps run no scripts')),
        } satisfies RunContext;
        await step.kind.run(step.spec, step.plan, ctx);
      }
      const expectedDir = join(golden, triplet);
      const written = listFiles(target, (rel) => rel.startsWith('usr/libexec/'));
      expect(written).toEqual(listFiles(expectedDir));
      for (const rel of written) {
        expect(readFileSync(join(target, rel), 'utf8'), rel).toBe(readFileSync(join(expectedDir, rel), 'utf8'));
        expect((statSync(join(target, rel)).mode & 0o777).toString(8), `mode of ${rel}`).toBe((statSync(join(expectedDir, rel)).mode & 0o777).toString(8));
      }
    });
  }
});

import type { CommandModule } from 'yargs';
import type { RecipeFile } from '../../engine/recipe/schema.js';
import { workOption } from '../options.js';

export const command: CommandModule = {
  command: 'doctor',
  describe: 'Check the host: root, tools, namespaces, disk space, mounts left under the target',
  builder: (y) =>
    workOption(y)
      .option('target', { type: 'string', describe: 'The live-bootstrap target directory to check' })
      .option('recipe', { alias: 'r', type: 'string', default: 'gentoo-2025', describe: 'Recipe the target is for (its starting_point names a file the target must have)' })
      .option('min-free', { type: 'number', default: 60, describe: 'GiB the work directory should have free (the Gentoo chain needs about that)' })
      .option('json', { type: 'boolean', default: false, describe: 'One JSON document on stdout' }),
  handler: async (argv) => {
    const kleur = (await import('kleur')).default;
    const { runDoctor } = await import('../../host/doctor.js');
    let recipe: RecipeFile | undefined;
    if (argv.target) {
      const { findRecipe, loadRecipe } = await import('../../engine/recipe/load-recipe.js');
      const { RECIPES_DIR } = await import('../defaults.js');
      recipe = (await loadRecipe(findRecipe(String(argv.recipe), RECIPES_DIR))).file;
    }
    const checks = await runDoctor({ work: String(argv.work), minFreeGiB: Number(argv['min-free']), ...(argv.target ? { target: String(argv.target), recipe } : {}) });
    const failed = checks.some((c) => c.level === 'fail');
    if (argv.json) {
      process.stdout.write(JSON.stringify({ ok: !failed, checks }, null, 2) + '\n');
    } else {
      const mark = { pass: kleur.green('ok  '), warn: kleur.yellow('warn'), fail: kleur.red('FAIL') };
      for (const c of checks) {
        process.stdout.write(`${mark[c.level]}  ${c.name}: ${c.detail}\n`);
        if (c.fix && c.level !== 'pass') process.stdout.write(`      fix: ${c.fix}\n`);
      }
      process.stdout.write(failed ? kleur.red('Some checks failed.\n') : 'The host is ready.\n');
    }
    process.exitCode = failed ? 1 : 0;
  },
};

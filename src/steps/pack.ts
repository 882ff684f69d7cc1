import { mkdir } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import * as z from 'zod';
import { StepFailure, type StepKind } from '../engine/step-kind.js';
import { DEFAULT_SEED_EXCLUDES, normalizeExcludes } from '../stage/exclude.js';
import { checkEpoch, compressionFor } from '../stage/tar-command.js';
import { BootstrapError, isBootstrapError } from '../util/errors.js';
import { mib } from '../util/format.js';

const schema = z
  .object({
    /** Host path of the tarball; its name ends as the compression calls for (.tar.xz, .tar.zst, .tar). */
    out: z.string().startsWith('/', { message: 'must be an absolute path on the host' }),
    /**
     * Patterns relative to the root (see src/stage/exclude.ts). When given, the list replaces the
     * defaults (./var/cache/distfiles/*, ./var/db/repos/*, ./var/tmp/*) so the recipe shows every
     * exclusion in one place; `[]` packs everything.
     */
    exclude: z.array(z.string()).optional(),
    /** Default: what the name of `out` says. */
    compress: z.enum(['xz', 'zstd', 'none']).optional(),
    /** Seconds since 1970 that newer mtimes are clamped to; without it the tree's mtimes are kept. */
    epoch: z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/, { message: 'must be whole seconds since 1970' })]).optional(),
  })
  .strict();

type Spec = z.output<typeof schema>;

/** Report progress to the log at most every this many percent of the stream. */
const NOTE_EVERY_PERCENT = 10;

function settings(spec: Spec, stepId: string, rootPath: string) {
  const field = (name: string) => `step ${stepId}: ${name}`;
  const out = resolve(spec.out);
  const rel = relative(rootPath, out);
  if (rel === '' || (!rel.startsWith(`..${sep}`) && !isAbsolute(rel))) {
    throw new BootstrapError('ERECIPE', `${field('out')} ${spec.out} is inside the root being packed (${rootPath})`, {
      hint: 'Write the seed outside the tree, e.g. under the work directory ({{work}}/seed/…).',
    });
  }
  const epoch = spec.epoch === undefined ? undefined : Number(spec.epoch);
  checkEpoch(epoch, field('epoch'));
  return {
    out,
    compression: compressionFor(out, spec.compress, field('compress'), field('out')),
    excludes: normalizeExcludes(spec.exclude ?? DEFAULT_SEED_EXCLUDES, field('exclude')),
    epoch,
  };
}

/**
 * Packs the step's root into a reproducible seed tarball on the host, with Catalyst's DIGESTS
 * and CONTENTS.gz beside it (src/stage/pack-stage.ts). It reads the tree as root so that every
 * file, owner and device node comes out as it is.
 */
export function createPackKind(): StepKind<Spec> {
  return {
    name: 'pack',
    schema,
    needsRoot: () => true,
    plan(spec, ctx) {
      if (ctx.root.host) {
        throw new BootstrapError('ERECIPE', `step ${ctx.stepId}: pack cannot pack the host root`, {
          hint: 'Give the step the root to pack (root: <name>).',
        });
      }
      const s = settings(spec, ctx.stepId, ctx.root.path);
      return {
        summary: [
          `pack ${ctx.root.path} (root ${ctx.root.name}) into ${s.out} (${s.compression}), with .DIGESTS and .CONTENTS.gz beside it`,
          `excluding ${s.excludes.length === 0 ? 'nothing' : s.excludes.join(' ')}`,
          s.epoch === undefined ? 'mtimes kept as they are (to the second)' : `mtimes clamped to ${s.epoch} (${new Date(s.epoch * 1000).toISOString()})`,
        ],
        detail: { root: ctx.root.path, out: s.out, exclude: s.excludes, compress: s.compression, epoch: s.epoch ?? null },
      };
    },
    async run(spec, _plan, ctx) {
      // The packer (and execa) is loaded by a run only, not by plan or status.
      const { packStage } = await import('../stage/pack-stage.js');
      const s = settings(spec, ctx.stepId, ctx.root.path);
      // A run may create its own output folders, but only inside its work directory.
      if (!relative(ctx.workDir, dirname(s.out)).startsWith('..')) await mkdir(dirname(s.out), { recursive: true });
      let nextNote = 0;
      try {
        const result = await packStage({
          root: ctx.root.path,
          out: s.out,
          exclude: s.excludes,
          compress: s.compression,
          epoch: s.epoch,
          signal: ctx.signal,
          onProgress: ({ bytesRead, estimatedTotal }) => {
            const percent = estimatedTotal === 0 ? 100 : Math.floor((bytesRead * 100) / estimatedTotal);
            if (percent < nextNote) return;
            nextNote = percent + NOTE_EVERY_PERCENT;
            ctx.log.note(`packed ${mib(bytesRead)} of ${mib(estimatedTotal)} (${percent}%)`);
          },
        });
        for (const warning of result.warnings) ctx.log.note(warning);
        ctx.log.note(`${result.path}: ${mib(result.size)}, ${result.entries} entries, ${result.integrity}`);
        return {
          artifacts: [
            { path: result.path, integrity: result.integrity, size: result.size },
            { path: result.digestsPath, integrity: result.digestsIntegrity, size: result.digestsSize },
            { path: result.contentsPath, integrity: result.contentsIntegrity, size: result.contentsSize },
          ],
        };
      } catch (error) {
        if (!isBootstrapError(error)) throw error;
        if (error.code === 'EPACK_TOOL') {
          throw new StepFailure(error.message, { details: [...String(error.found).split('\n'), ...(error.hint ? [error.hint] : [])] });
        }
        throw new BootstrapError(error.code, `step ${ctx.stepId}: ${error.message}`, { hint: error.hint, expected: error.expected, found: error.found, exitCode: error.exitCode });
      }
    },
  };
}

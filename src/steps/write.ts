import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, posix, relative, sep } from 'node:path';
import * as z from 'zod';
import { removeStaleTempsInRoot, writeFileInRoot } from '../host/rooted-fs.js';
import { BootstrapError } from '../util/errors.js';
import { sha256Hex } from '../engine/fingerprint.js';
import type { PlanContext, StepKind } from '../engine/step-kind.js';

const entrySchema = z
  .object({
    /** A file or folder under the recipe's files/ (a folder is copied whole, below `dest`). */
    src: z.string().min(1).optional(),
    /** Inline content, for a line or two that does not merit a file. */
    content: z.string().optional(),
    /** Absolute path inside the root. */
    dest: z.string().startsWith('/'),
    /** Octal mode; default 0644, or 0755 when the source file is executable. */
    mode: z.string().regex(/^0?[0-7]{3,4}$/).optional(),
    /** Fill `{{parameters}}` in the content (default true). */
    render: z.boolean().default(true),
  })
  .strict()
  .refine((e) => (e.src === undefined) !== (e.content === undefined), { message: 'give exactly one of src and content' });

const schema = z.object({ files: z.array(entrySchema).min(1) }).strict();

type Spec = z.output<typeof schema>;

interface PlannedFile {
  dest: string;
  mode: number;
  data: Buffer;
}

/** Files from the recipe's files/ tree, rendered with parameters, written into a root. */
export function createWriteKind(): StepKind<Spec> {
  return {
    name: 'write',
    schema,
    needsRoot: () => false,
    async plan(spec, ctx) {
      if (ctx.root.host) {
        throw new BootstrapError('ERECIPE', `step ${ctx.stepId}: write steps cannot write into the host root`, {
          hint: 'Write into one of the recipe roots; bootstrap never changes the host outside its work and target directories.',
        });
      }
      const files = await collect(spec, ctx);
      const writes = files.map((f) => ({ path: f.dest, sha256: sha256Hex(f.data), mode: f.mode.toString(8).padStart(4, '0') }));
      return {
        summary: writes.map((w) => `write ${w.path} (mode ${w.mode}, sha256 ${w.sha256.slice(0, 12)}…) into ${ctx.root.name}`),
        detail: { files: writes },
        writes,
      };
    },
    async run(spec, plan, ctx) {
      const files = await collect(spec, ctx);
      const planned = new Map((plan.writes ?? []).map((w) => [w.path, w.sha256]));
      // A killed earlier attempt may have left a partial file under a temporary name.
      for (const path of await removeStaleTempsInRoot(ctx.root.path, files.map((f) => f.dest))) {
        ctx.log.note(`removed ${path}, a partial file an interrupted write left`);
      }
      for (const file of files) {
        if (planned.get(file.dest) !== sha256Hex(file.data)) {
          throw new BootstrapError('ECHANGED', `step ${ctx.stepId}: ${file.dest} changed in the recipe after the run was planned`, {
            hint: 'Run bootstrap resume again: it plans afresh and re-runs from the changed step.',
          });
        }
        await writeFileInRoot(ctx.root.path, file.dest, file.data, { mode: file.mode });
        ctx.log.note(`wrote ${file.dest}`);
      }
    },
  };
}

type CollectContext = Pick<PlanContext, 'recipeDir' | 'render' | 'stepId'>;

async function collect(spec: Spec, ctx: CollectContext): Promise<PlannedFile[]> {
  const out: PlannedFile[] = [];
  const filesDir = join(ctx.recipeDir, 'files');
  for (const [index, entry] of spec.files.entries()) {
    const explicitMode = entry.mode === undefined ? undefined : parseInt(entry.mode, 8);
    if (entry.content !== undefined) {
      const text = entry.render ? ctx.render(entry.content, `step ${ctx.stepId}: content of ${entry.dest}`) : entry.content;
      out.push({ dest: entry.dest, mode: explicitMode ?? 0o644, data: Buffer.from(text) });
      continue;
    }
    const field = `step ${ctx.stepId}: files[${index}].src ${JSON.stringify(entry.src)}`;
    const outside = (where: string) =>
      new BootstrapError('ERECIPE', `${field} leads to ${where}, outside the recipe's files/ folder (${filesDir})`, {
        hint: 'Name a file or folder below files/, e.g. src: etc/portage/make.conf; links there must point below files/ too.',
      });
    if (isAbsolute(entry.src!)) throw outside(entry.src!);
    const top = join(filesDir, entry.src!);
    if (!within(filesDir, top)) throw outside(top);
    const info = await stat(top).catch(() => undefined);
    if (!info) {
      throw new BootstrapError('ERECIPE', `${field}: ${relative(process.cwd(), top) || '.'} does not exist`, {
        hint: `Files a write step copies live under ${filesDir}.`,
      });
    }
    // Through symbolic links too: a link under files/ must not bring in the recipe's (or the host's) other files.
    const real = await realpath(top);
    if (!within(await realpath(filesDir), real)) throw outside(real);
    const sources = info.isDirectory() ? await walk(top) : [top];
    for (const file of sources) {
      const rel = info.isDirectory() ? relative(top, file) : '';
      const dest = rel ? posix.join(entry.dest, rel) : entry.dest;
      const raw = await readFile(file);
      const mode = explicitMode ?? ((await stat(file)).mode & 0o111 ? 0o755 : 0o644);
      const data = entry.render ? Buffer.from(ctx.render(raw.toString('utf8'), relative(ctx.recipeDir, file))) : raw;
      out.push({ dest, mode, data });
    }
  }
  return out;
}

function within(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await walk(path)));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}

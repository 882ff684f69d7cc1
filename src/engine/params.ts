import { existsSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';
import { BootstrapError } from '../util/errors.js';
import { globToRegExp } from '../util/glob.js';
import type { LoadedRecipe } from './recipe/load-recipe.js';
import { placeholders, renderTemplate } from './render.js';
import { startingPointMissing } from './starting-point.js';

/** Parameters every recipe can use; a recipe cannot declare or `--set` them. */
export interface Builtins {
  work: string;
  recipe_dir: string;
  host_cores: string;
  host_memory_gib: string;
  /** Compile jobs the host can carry: one per core, about 2 GiB of memory each. */
  host_jobs: string;
  host_load: string;
}

export function builtins(work: string, recipeDir: string): Builtins {
  const cores = availableParallelism();
  const memoryGiB = Math.floor(totalmem() / 2 ** 30);
  return {
    work,
    recipe_dir: recipeDir,
    host_cores: String(cores),
    host_memory_gib: String(memoryGiB),
    host_jobs: String(Math.max(1, Math.min(cores, Math.floor(memoryGiB / 2)))),
    host_load: String(cores),
  };
}

/**
 * `frozen`: the value an earlier run of the same work directory resolved (resume).
 * `deferred`: the default, until an earlier phase makes what the parameter is detected from.
 */
export type ParamSource = 'builtin' | 'default' | 'set' | 'frozen' | 'detected' | 'deferred' | 'missing';

export interface ResolvedParams {
  values: Record<string, string>;
  sources: Record<string, ParamSource>;
}

export interface ResolveOptions {
  builtins: Builtins;
  given: Readonly<Record<string, string>>;
  /**
   * Values an earlier run resolved (a resume): they come after `given` and before detection and
   * defaults, so a resumed run keeps its values while only what was given counts as `set`.
   */
  frozen?: Readonly<Record<string, string>>;
  /** Planning only: a parameter with no value becomes `<name>` instead of an error. */
  allowMissing?: boolean;
}

/** Resolves every parameter: `--set` first, then detection, then the default (which may use others). */
export function resolveParams(recipe: LoadedRecipe, options: ResolveOptions): ResolvedParams {
  const defs = recipe.file.parameters;
  const fixed: Record<string, string> = { ...options.builtins };
  for (const name of Object.keys(options.given)) {
    if (name in fixed) {
      throw new BootstrapError('EPARAM', `--set ${name}: ${name} is set by bootstrap itself and cannot be changed`, {
        hint: name === 'work' ? 'Use --work DIR.' : 'Remove this --set.',
      });
    }
    if (!(name in defs)) {
      const known = Object.keys(defs).sort();
      throw new BootstrapError('EPARAM', `--set ${name}: recipe ${recipe.file.name} has no parameter ${name}`, {
        hint: known.length ? `Its parameters are: ${known.join(', ')}.` : 'This recipe has no parameters.',
      });
    }
  }
  for (const name of Object.keys(defs)) {
    if (name in fixed) {
      throw new BootstrapError('ERECIPE', `${recipe.locate(['parameters', name])}: parameter ${name} is built in and cannot be declared`);
    }
  }
  const values: Record<string, string> = { ...fixed };
  const sources: Record<string, ParamSource> = Object.fromEntries(Object.keys(fixed).map((k) => [k, 'builtin' as const]));
  const resolving = new Set<string>();

  const resolveOne = (name: string, chain: string[]): string => {
    if (name in values) return values[name]!;
    const def = defs[name];
    if (!def) throw new BootstrapError('EPARAM', `unknown parameter {{${name}}} used by ${chain.at(-1)}`);
    if (resolving.has(name)) {
      throw new BootstrapError('ERECIPE', `${recipe.locate(['parameters', name])}: parameters refer to each other in a loop: ${[...chain, name].join(' -> ')}`);
    }
    resolving.add(name);
    const where = (field: string) => `${recipe.locate(['parameters', name, field])} (parameters.${name}.${field})`;
    const renderWith = (text: string, field: string) => {
      for (const ref of placeholders(text)) if (ref in defs) resolveOne(ref, [...chain, name]);
      return renderTemplate(text, values, where(field));
    };
    let value: string | undefined;
    let source: ParamSource = 'set';
    if (name in options.given) value = options.given[name];
    else if (options.frozen && name in options.frozen) {
      value = options.frozen[name];
      source = 'frozen';
    }
    if (value === undefined && def.detect) {
      const glob = def.detect.glob;
      const usable = placeholders(glob).every((ref) => !(ref in defs) || resolveOne(ref, [...chain, name]) !== missing(ref));
      if (usable && !detectionPutOff(glob, renderWith(glob, 'detect'), def.default !== undefined)) {
        const pattern = renderWith(glob, 'detect');
        try {
          value = detect(pattern, name);
        } catch (error) {
          // Nothing to detect from because the folder is not the starting point at all: say that.
          const missingPoint = notStartingPoint();
          if (missingPoint) {
            throw new BootstrapError('ETARGET', missingPoint, {
              hint: `Give the ${recipe.file.starting_point!.name} output folder${'target' in defs ? ' with --target DIR' : ''}${recipe.file.starting_point!.note ? ` (${recipe.file.starting_point!.note})` : ''}.`,
            });
          }
          throw error;
        }
        source = 'detected';
      }
    }
    if (value === undefined && def.default !== undefined) {
      value = renderWith(def.default, 'default');
      source = def.detect ? 'deferred' : 'default';
    }
    if (value === undefined) {
      if (!options.allowMissing) {
        throw new BootstrapError('EPARAM', `parameter ${name} has no value${def.description ? ` (${def.description})` : ''}`, {
          hint: `Give it with --set ${name}=VALUE${name === 'target' ? ' or --target DIR' : ''}.`,
        });
      }
      value = missing(name);
      source = 'missing';
    }
    if (def.pattern && source !== 'missing' && !new RegExp(`^(?:${def.pattern})$`).test(value)) {
      throw new BootstrapError('EPARAM', `parameter ${name}=${JSON.stringify(value)} does not match ${def.pattern} (${recipe.locate(['parameters', name, 'pattern'])})`, {
        hint: `Give a value matching ${def.pattern} with --set ${name}=VALUE.`,
      });
    }
    // A default (or the frozen default of a resumed run) may name a directory the run makes.
    if (def.type === 'directory' && (source === 'set' || source === 'detected') && !statSync(value, { throwIfNoEntry: false })?.isDirectory()) {
      throw new BootstrapError('EPARAM', `parameter ${name}: ${value} is not a directory${def.description ? ` (${def.description})` : ''}`, {
        hint: `Give an existing directory with ${name === 'target' ? '--target DIR' : `--set ${name}=DIR`}.`,
      });
    }
    resolving.delete(name);
    values[name] = value;
    sources[name] = source;
    return value;
  };

  /** When the starting point's root is known but lacks the recipe's starting_point.file: what is missing. */
  const notStartingPoint = (): string | undefined => {
    const point = recipe.file.starting_point;
    const root = point ? recipe.file.roots[point.root] : undefined;
    if (!root) return undefined;
    try {
      const refs = placeholders(root.path);
      if (refs.some((ref) => ref in defs && !(ref in values))) return undefined;
      return startingPointMissing(recipe.file, renderTemplate(root.path, values, `roots.${point!.root}.path`));
    } catch {
      return undefined;
    }
  };

  /**
   * Detection waits for the run when there is nothing to look at yet: the folder the glob
   * searches does not exist, every parameter it uses has its default (so an earlier phase of
   * the run makes that folder), and there is a default to use meanwhile.
   */
  const detectionPutOff = (glob: string, pattern: string, hasDefault: boolean): boolean => {
    if (!hasDefault) return false;
    if (!placeholders(glob).every((ref) => !(ref in defs) || sources[ref] === 'default' || sources[ref] === 'frozen')) return false;
    const star = pattern.indexOf('*');
    const folder = star < 0 ? pattern : pattern.slice(0, pattern.lastIndexOf('/', star) + 1);
    return !existsSync(folder);
  };

  for (const name of Object.keys(defs)) resolveOne(name, [`parameters.${name}`]);
  return { values, sources };
}

function missing(name: string): string {
  return `<${name}>`;
}

/** The one host path matching a glob whose `*` stays within a path component. */
function detect(pattern: string, param: string): string {
  const parts = pattern.split('/').filter(Boolean);
  let candidates = [pattern.startsWith('/') ? '/' : '.'];
  for (const part of parts) {
    const next: string[] = [];
    for (const dir of candidates) {
      if (!part.includes('*')) {
        next.push(join(dir, part));
        continue;
      }
      const re = globToRegExp(part);
      let entries: string[] = [];
      try {
        entries = readdirSync(dir);
      } catch {
        entries = [];
      }
      next.push(...entries.filter((e) => re.test(e)).sort().map((e) => join(dir, e)));
    }
    candidates = next;
  }
  const found = candidates.filter((c) => existsSync(c));
  if (found.length !== 1) {
    throw new BootstrapError('EDETECT', `cannot detect parameter ${param}: ${found.length === 0 ? 'nothing matches' : `${found.length} paths match`} ${pattern}${found.length ? ` (${found.join(', ')})` : ''}`, {
      hint: `Check that the target is the right directory, or give the value with --set ${param}=VALUE.`,
    });
  }
  return found[0]!.split('/').pop()!;
}

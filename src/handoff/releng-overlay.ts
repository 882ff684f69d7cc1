import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { BootstrapError, errnoCode } from '../util/errors.js';

/** The two portage_confdir trees of releng that the specs use, under `releases/portage/`. */
const TREES = ['stages', 'isos'] as const;

type Edit = (current: string | undefined) => string;

function lines(text: string | undefined): string[] {
  return (text ?? '').split('\n').filter((l, i, all) => !(l === '' && i === all.length - 1));
}

function ensureLine(line: string): Edit {
  return (current) => {
    const have = lines(current);
    return `${[...have, ...(have.includes(line) ? [] : [line])].join('\n')}\n`;
  };
}

/** Replaces lines that start with `atom` (followed by a blank) with `line`, or appends it. */
function setAtomLine(atom: string, line: string): Edit {
  return (current) => {
    const have = lines(current);
    const isAtom = (l: string) => l === atom || l.startsWith(`${atom} `) || l.startsWith(`${atom}\t`);
    const out = have.some(isAtom) ? have.map((l) => (isAtom(l) ? line : l)) : [...have, line];
    return `${[...new Set(out)].join('\n')}\n`;
  };
}

/** Masks rust-bin and unmasks rust: releng masks the source build to save time; we want it. */
const maskRustBin: Edit = (current) => {
  const sourceRust = /^[<>=~]*dev-lang\/rust(?![-\w])/;
  const kept = lines(current).filter((l) => !sourceRust.test(l.trim()));
  return ensureLine('dev-lang/rust-bin')(kept.length ? `${kept.join('\n')}\n` : undefined);
};

/**
 * The guide's edits to releng's `releases/portage/`, by path. They are applied on top of a
 * releng checkout when one is given, or make up the whole tree otherwise.
 */
const EDITS: Record<string, Edit> = {
  'stages/package.mask/releng/rust': maskRustBin,
  // A stage1 otherwise only rebuilds what packages.build lists; this makes it build Rust.
  'stages/profile/packages.build': ensureLine('dev-lang/rust'),
  'stages/package.use/releng/circular': (current) =>
    ensureLine('dev-python/pillow -truetype')(setAtomLine('net-misc/curl', 'net-misc/curl http2 ssl openssl curl_ssl_openssl')(current)),
  'isos/package.mask/releng/rust': maskRustBin,
  'isos/package.accept_keywords/admincd-packages': ensureLine('net-libs/mbedtls'),
};

/**
 * Without a releng checkout, stage1 still needs releng's forced alternatives: it builds with
 * `USE="-* build"`, which would leave app-alternatives/* with no provider selected.
 */
const WITHOUT_RELENG: Record<string, string> = {
  'stages/profile/package.use.force/releng/alternatives':
    'app-alternatives/bzip2 reference\napp-alternatives/cpio gnu\napp-alternatives/sh bash\napp-alternatives/tar gnu\n',
};

async function readTree(root: string, dir: string, into: Map<string, string>): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const info = await stat(path);
    if (info.isDirectory()) await readTree(root, path, into);
    else if (info.isFile()) into.set(relative(root, path), await readFile(path, 'utf8'));
  }
}

/**
 * Files (relative to `releases/portage/`) of the portage_confdir trees the specs point at:
 * releng's own when `relengDir` is given, with the guide's Rust-from-source edits applied.
 */
export async function buildPortageTrees(relengDir: string | undefined): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  if (relengDir) {
    const base = join(relengDir, 'releases/portage');
    for (const tree of TREES) {
      try {
        await readTree(base, join(base, tree), files);
      } catch (error) {
        if (errnoCode(error) !== 'ENOENT') throw error;
        throw new BootstrapError('EHANDOFF_RELENG', `${join(base, tree)} does not exist: --releng must name a checkout of Gentoo's releng repository`, {
          hint: 'git clone https://gitweb.gentoo.org/proj/releng.git and pass its folder, or leave --releng out to use the built-in trees.',
        });
      }
    }
  } else {
    for (const [path, text] of Object.entries(WITHOUT_RELENG)) files.set(path, text);
  }
  for (const [path, edit] of Object.entries(EDITS)) files.set(path, edit(files.get(path)));
  return files;
}

/**
 * Portage's emerge.log: one line per event, `<epoch seconds>: <message>`. A merge starts with
 * `>>> emerge (i of n) cat/pkg-ver to ROOT` and ends with `::: completed emerge (i of n) … to
 * ROOT`; `*** exiting unsuccessfully` or `*** terminating.` ends every merge still open, as
 * failed. Reading never throws: a line that is not Portage's (torn by a crash, or cut off at the
 * end while Portage is still writing) is counted and named, and the rest is read.
 */

export interface LogMerge {
  /** `cat/pkg-ver`, without a `::repo` suffix. */
  name: string;
  index: number;
  total: number;
  /** The ROOT Portage merged into. */
  root: string;
  /** Epoch milliseconds (the log has whole seconds). */
  start: number;
  end?: number;
  /** `open`: no completion and no exit line after it (still merging, or emerge was killed). */
  status: 'done' | 'failed' | 'open';
  /** The exit status of the emerge that failed it, when the log gives one. */
  exitStatus?: number;
}

export interface EmergeLog {
  merges: LogMerge[];
  /** Lines that are not Portage's, by line number (1-based) with their first characters. */
  torn: Array<{ line: number; text: string }>;
}

const LINE = /^(\d+)(?:\.\d+)?: ?(.*)$/;
const START = /^\s*>>> emerge \((\d+) of (\d+)\) (\S+) to (\S+)\s*$/;
const DONE = /^\s*::: completed emerge \((\d+) of (\d+)\) (\S+) to (\S+)\s*$/;
const EXIT_FAIL = /^\s*\*\*\* (?:exiting unsuccessfully(?: with status '?(\d+)'?)?|terminating)/;
const EXIT_OK = /^\s*\*\*\* exiting successfully/;
// A new emerge: what was still open belonged to one that died without an exit line.
const SESSION = /^\s*(?:\*\*\* emerge |Started emerge on:)/;

export function readEmergeLog(text: string): EmergeLog {
  const merges: LogMerge[] = [];
  const torn: EmergeLog['torn'] = [];
  const open = new Map<string, LogMerge>();
  const lines = text.split('\n');
  // Portage ends every line with a newline: text after the last one is a line being written.
  const last = lines.pop() ?? '';
  if (last !== '') torn.push({ line: lines.length + 1, text: last.slice(0, 80) });
  let lastTime = 0;
  const closeAll = (status: LogMerge['status'], end: number, exitStatus?: number) => {
    for (const merge of open.values()) {
      merge.status = status;
      merge.end = Math.max(end, merge.start);
      if (exitStatus !== undefined) merge.exitStatus = exitStatus;
    }
    open.clear();
  };
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const m = LINE.exec(line);
    if (!m) {
      torn.push({ line: i + 1, text: line.slice(0, 80) });
      return;
    }
    const time = Number(m[1]) * 1000;
    const message = m[2]!;
    const before = lastTime;
    lastTime = time;
    let hit: RegExpExecArray | null;
    if ((hit = START.exec(message))) {
      const merge: LogMerge = { name: stripRepo(hit[3]!), index: Number(hit[1]), total: Number(hit[2]), root: hit[4]!, start: time, status: 'open' };
      const key = `${merge.name} ${merge.root}`;
      // The same package started again without an end: the first attempt died.
      const previous = open.get(key);
      if (previous) previous.status = 'failed';
      open.set(key, merge);
      merges.push(merge);
    } else if ((hit = DONE.exec(message))) {
      const key = `${stripRepo(hit[3]!)} ${hit[4]!}`;
      const merge = open.get(key);
      if (merge) {
        merge.status = 'done';
        merge.end = time;
        open.delete(key);
      }
    } else if (/^\s*(>>> emerge|::: completed emerge)/.test(message)) {
      torn.push({ line: i + 1, text: line.slice(0, 80) });
    } else if ((hit = EXIT_FAIL.exec(message))) {
      closeAll('failed', time, hit[1] !== undefined ? Number(hit[1]) : undefined);
    } else if (EXIT_OK.test(message)) {
      // Merges open at a successful exit were not merged after all (e.g. --keep-going skipped them).
      closeAll('failed', time);
    } else if (SESSION.test(message) && open.size > 0) {
      closeAll('failed', before);
    }
  });
  return { merges, torn };
}

function stripRepo(cpv: string): string {
  const at = cpv.indexOf('::');
  return at < 0 ? cpv : cpv.slice(0, at);
}

/** What the fetcher reports while it works; the CLI turns these into a progress display. */
export type FetchEvent =
  | { type: 'verified'; name: string; size: number; afterWaitingFor?: string }
  /** Another process holds the distfile (see distfile-lock.ts); this one waits, then checks what it left. */
  | { type: 'waiting'; name: string; holder: string; store: string }
  | { type: 'start'; name: string; source: string; size: number | null; offset: number }
  | { type: 'bytes'; name: string; bytes: number; size: number | null }
  | { type: 'retry'; name: string; source: string; attempt: number; reason: string; delayMs: number }
  | { type: 'next-source'; name: string; source: string; reason: string }
  | { type: 'mismatch'; name: string; source: string; keptAt: string; expected: string; found: string }
  | { type: 'done'; name: string; size: number; integrity: string; source: string }
  | { type: 'pinned'; name: string; size: number; integrity: string };

export type FetchEventHandler = (event: FetchEvent) => void;

import { type ChildProcess, fork } from 'node:child_process';
import { ownEntry } from '../package-root.ts';

// A child process running one of the bot's own modules (the upload parser, the export): a heap cap,
// an environment without secrets (no DATA_KEY, no database or Redis address: what the child needs
// arrives over IPC), structured-clone IPC, and the end of its stderr kept, where V8 prints its fatal
// out-of-memory line.

/** The only variables a child gets from the bot's environment. */
const PASSED_ENV = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'NODE_ENV'];
const STDERR_TAIL = 4096;

export interface LeanChild {
  child: ChildProcess;
  /** The end of what the child wrote to stderr. */
  stderr: () => string;
}

/** Starts `src/<path>.ts` (dist/<path>.js when built) as a child with these V8 flags. */
export function forkLean(path: string, execArgv: string[]): LeanChild {
  const entry = ownEntry(path);
  const env: NodeJS.ProcessEnv = {};
  for (const k of PASSED_ENV) if (process.env[k]) env[k] = process.env[k];
  const child = fork(entry.file, entry.args, {
    execArgv,
    env,
    serialization: 'advanced',
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (c: string) => {
    tail = (tail + c).slice(-STDERR_TAIL);
  });
  return { child, stderr: () => tail };
}

/** Whether a child that died ran out of heap (V8's fatal line on stderr, or its abort). */
export function diedOfMemory(stderr: string, code: number | null, signal: NodeJS.Signals | null): boolean {
  return /heap out of memory|Allocation failed/i.test(stderr) || signal === 'SIGABRT' || code === 134;
}

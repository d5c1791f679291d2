// A watchdog for a command's process group that outlives nothing: it dies with the process that started
// it and takes the group with it. The shell operator puts each command in its own group (so cancel can stop
// the command's children), which also means a `kill -9` of the worker would leave the group running and
// overlapping the retry on another worker. The watchdog is a tiny `sh` (present on Linux and macOS) that
// blocks reading a pipe whose only writer is this process: the kernel closes the pipe when this process
// dies, however it dies, and the watchdog then stops the group.
import { type ChildProcess, spawn } from 'node:child_process';

/** How long the group gets between SIGTERM and SIGKILL once its owner is gone. */
const GRACE_SECONDS = 1;

// `kill -s SIG -- -PGID` is the spelling dash, bash and zsh (macOS's sh) all accept. Signals that reach the
// watchdog's own group (a terminal's Ctrl-C) are ignored: only the pipe's end may release it.
const WATCHDOG_SCRIPT = [
  "trap '' INT HUP TERM QUIT",
  'read _ignored',
  'kill -s TERM -- "-$1" 2>/dev/null',
  `sleep ${GRACE_SECONDS}`,
  'kill -s KILL -- "-$1" 2>/dev/null',
].join('\n');

/** A running watchdog; `release` stops it without touching the group (the command ended normally). */
export interface ProcessGroupSupervisor {
  release(): void;
}

/**
 * Starts a watchdog that sends SIGTERM (then SIGKILL) to process group `groupId` as soon as this process
 * dies. Call `release()` when the group's leader has exited so the watchdog goes away.
 */
export function superviseProcessGroup(groupId: number): ProcessGroupSupervisor {
  const watchdog: ChildProcess = spawn('/bin/sh', ['-c', WATCHDOG_SCRIPT, 'batuta-watchdog', String(groupId)], {
    // Its own group, so a signal meant for the worker's group does not reach it before the worker dies.
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  // A watchdog that could not start must not fail the attempt: the attempt still runs, unsupervised.
  watchdog.on('error', () => undefined);
  watchdog.stdin?.on('error', () => undefined);
  // Neither the watchdog nor its pipe should keep a finishing worker alive.
  watchdog.unref();
  const pipe = watchdog.stdin as (NodeJS.WritableStream & { unref?: () => void }) | null;
  pipe?.unref?.();
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      // SIGKILL, not closing the pipe: closing it is the "owner died" signal that would stop the group.
      watchdog.kill('SIGKILL');
    },
  };
}

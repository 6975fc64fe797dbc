// How the container's stdin/stdout/stderr connect to mycfs's. The container never gets
// a file descriptor of the host's terminal: with one, it could push keystrokes into the
// host shell (TIOCSTI) or change its settings.
//  - tty (-t): the container opens a terminal of its own on its own devpts (OP_PTY) and
//    hands mycfs the master; with -i at a terminal, mycfs puts the host terminal in raw
//    mode and relays both ways, so line editing, Ctrl-C and job control happen inside.
//  - otherwise: stdin is empty unless -i; fds are passed as they are, except a terminal,
//    which is replaced by a pipe that mycfs copies (in or out).
import { close, copyWinsize, isatty, pipe, rawTerminal, restoreTerminal } from "../native/lib";
import { normalJit } from "../jit";
import type { Stdio } from "./plan";

export interface IoMode {
  tty: boolean;
  /** Keep stdin open and pass it on. */
  interactive: boolean;
}

export interface ContainerIo extends Stdio {
  /** The container's pty master arrived (ctty only). */
  terminal?(master: number): void;
  /** The child holds its own copies now: drop the parent's. */
  afterSpawn(): void;
  /** Start relaying. */
  start(): void;
  /** Resolves once everything the container wrote has been copied out. */
  drained(): Promise<void>;
  /** Give the host terminal back as it was. Safe to call at any time, more than once. */
  restore(): void;
}

// node:fs is loaded only when something must be relayed: it costs milliseconds at start.
type Fs = typeof import("node:fs");

export function copyOut(fs: Fs, fd: number, to: (chunk: Buffer) => void): Promise<void> {
  normalJit();
  return new Promise((resolve) => {
    const s = fs.createReadStream("", { fd, autoClose: true });
    s.on("data", (chunk) => to(chunk as Buffer));
    // a pty master reads EIO once the last slave fd is closed: that is its end
    s.on("end", resolve);
    s.on("error", () => resolve());
  });
}

function writeAll(fs: Fs, fd: number, data: Uint8Array) {
  for (let off = 0; off < data.byteLength; ) off += fs.writeSync(fd, data, off);
}

/** Copies mycfs's stdin into fd (a pipe or the pty master); calls onEnd at EOF. */
function copyIn(fs: Fs, fd: number, onEnd: () => void) {
  normalJit();
  const onData = (d: Buffer) => {
    try {
      writeAll(fs, fd, d);
    } catch {
      stop(); // the container closed its end
    }
  };
  const stop = () => {
    process.stdin.off("data", onData);
    process.stdin.off("end", onEnd);
    process.stdin.pause();
  };
  process.stdin.on("data", onData);
  process.stdin.on("end", onEnd);
  return stop;
}

function terminalIo(fs: Fs, interactive: boolean): ContainerIo {
  // the window size comes from whichever side is a terminal
  const sizeFrom = isatty(0) ? 0 : isatty(1) ? 1 : -1;
  let master = -1;
  let done: Promise<void> = Promise.resolve();
  let saved: Uint8Array | null = null;
  let stopInput = () => {};
  const onResize = () => copyWinsize(sizeFrom, master);
  let restored = false;
  return {
    fds: [-1, -1, -1],
    ctty: true,
    terminal(fd) {
      master = fd;
      if (sizeFrom >= 0) copyWinsize(sizeFrom, master);
    },
    afterSpawn() {},
    start() {
      if (sizeFrom >= 0) process.on("SIGWINCH", onResize);
      if (interactive) {
        saved = rawTerminal(0);
        stopInput = copyIn(fs, master, () => {});
      }
      done = copyOut(fs, master, (chunk) => process.stdout.write(chunk));
    },
    drained: () => done,
    restore() {
      if (restored) return;
      restored = true;
      process.off("SIGWINCH", onResize);
      stopInput();
      if (saved) restoreTerminal(0, saved);
    },
  };
}

async function pipedIo(interactive: boolean): Promise<ContainerIo> {
  const fds: [number, number, number] = [-1, -1, -1];
  const ours: number[] = [];
  const relays: { read: number; to: NodeJS.WriteStream }[] = [];
  let feed = -1;
  if (!interactive || isatty(0)) {
    const [read, write] = pipe();
    fds[0] = read;
    ours.push(read);
    // without -i the write end closes at once: the container reads EOF
    if (interactive) feed = write;
    else close(write);
  }
  for (const fd of [1, 2] as const) {
    if (!isatty(fd)) continue;
    const [read, write] = pipe();
    fds[fd] = write;
    ours.push(write);
    relays.push({ read, to: fd === 1 ? process.stdout : process.stderr });
  }
  const fs = relays.length || feed >= 0 ? await import("node:fs") : undefined;
  let done: Promise<unknown> = Promise.resolve();
  let stopInput = () => {};
  return {
    fds,
    ctty: false,
    afterSpawn: () => ours.forEach(close),
    start() {
      if (feed >= 0) stopInput = copyIn(fs!, feed, () => close(feed));
      done = Promise.all(relays.map((r) => copyOut(fs!, r.read, (chunk) => r.to.write(chunk))));
    },
    drained: async () => void (await done),
    restore: () => stopInput(),
  };
}

export async function openIo(mode: IoMode): Promise<ContainerIo> {
  return mode.tty ? terminalIo(await import("node:fs"), mode.interactive) : pipedIo(mode.interactive);
}

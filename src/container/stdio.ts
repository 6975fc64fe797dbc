// How the container's stdin/stdout/stderr connect to mycfs's. The container never gets
// a file descriptor of the host's terminal: with one, it could push keystrokes into the
// host shell (TIOCSTI) or change its settings.
//  - stdin is a terminal: the container gets a pseudo-terminal of its own as controlling
//    terminal; mycfs puts the host terminal in raw mode and relays both ways, so line
//    editing, Ctrl-C and job control happen inside the container.
//  - otherwise: fds are passed as they are, except a terminal on stdout/stderr, which is
//    replaced by a pipe that mycfs copies out.
import { close, copyWinsize, isatty, openpty, pipe } from "../native/lib";
import type { Stdio } from "./plan";

export interface ContainerIo extends Stdio {
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

function copyOut(fs: Fs, fd: number, to: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    const s = fs.createReadStream("", { fd, autoClose: true });
    s.on("data", (chunk) => to.write(chunk));
    // a pty master reads EIO once the last slave fd is closed: that is its end
    s.on("end", resolve);
    s.on("error", () => resolve());
  });
}

function writeAll(fs: Fs, fd: number, data: Uint8Array) {
  for (let off = 0; off < data.byteLength; ) off += fs.writeSync(fd, data, off);
}

function terminalIo(fs: Fs): ContainerIo {
  const { master, slave } = openpty();
  copyWinsize(0, master);
  let done: Promise<void> = Promise.resolve();
  const onInput = (d: Buffer) => writeAll(fs, master, d);
  const onResize = () => copyWinsize(0, master);
  let restored = false;
  return {
    fds: [slave, slave, slave],
    ctty: true,
    afterSpawn: () => close(slave),
    start() {
      process.stdin.setRawMode(true);
      process.stdin.on("data", onInput);
      process.on("SIGWINCH", onResize);
      done = copyOut(fs, master, process.stdout);
    },
    drained: () => done,
    restore() {
      if (restored) return;
      restored = true;
      process.off("SIGWINCH", onResize);
      process.stdin.off("data", onInput);
      if (process.stdin.isTTY) process.stdin.setRawMode(false);
      process.stdin.pause();
    },
  };
}

async function passthroughIo(): Promise<ContainerIo> {
  const fds: [number, number, number] = [-1, -1, -1];
  const relays: { read: number; write: number; to: NodeJS.WriteStream }[] = [];
  for (const fd of [1, 2] as const) {
    if (!isatty(fd)) continue;
    const [read, write] = pipe();
    fds[fd] = write;
    relays.push({ read, write, to: fd === 1 ? process.stdout : process.stderr });
  }
  const fs = relays.length ? await import("node:fs") : undefined;
  let done: Promise<unknown> = Promise.resolve();
  return {
    fds,
    ctty: false,
    afterSpawn: () => relays.forEach((r) => close(r.write)),
    start() {
      done = Promise.all(relays.map((r) => copyOut(fs!, r.read, r.to)));
    },
    drained: async () => void (await done),
    restore() {},
  };
}

export async function openIo(): Promise<ContainerIo> {
  return isatty(0) ? terminalIo(await import("node:fs")) : passthroughIo();
}

// A detached container's stdout and stderr, captured by its supervisor into a log file
// with rotation by size: one JSON object a line, as docker's json-file driver writes,
// {"stream":"stdout","time":"…","log":"text\n"}, so `mycfs logs` can give each line back
// on the stream it came from. log.json is the newest file, log.json.1 the one before…
import { parseBytes } from "../cgroups/limits";
import { MycfsError } from "../errors";
import { close, pipe } from "../native/lib";
import { copyOut, type ContainerIo } from "./stdio";

type Fs = typeof import("node:fs");

export interface LogOpts {
  maxSize: number;
  /** Files kept, the current one included. */
  maxFile: number;
}

/** --log-opt max-size=10m, --log-opt max-file=3 (docker's names). */
export function parseLogOpts(specs: string[]): LogOpts {
  const o: LogOpts = { maxSize: 10 * 1024 * 1024, maxFile: 3 };
  for (const spec of specs) {
    const [key, value = ""] = spec.split(/=(.*)/s) as [string, string?];
    if (key === "max-size") o.maxSize = parseBytes(value, "--log-opt max-size");
    else if (key === "max-file" && /^[1-9]\d*$/.test(value)) o.maxFile = Number(value);
    else throw new MycfsError(`--log-opt ${spec}: expected max-size=SIZE (e.g. 10m) or max-file=N (N ≥ 1)`);
  }
  if (o.maxSize < 1024) throw new MycfsError(`--log-opt max-size: at least 1k, so that a line fits`);
  return o;
}

export type Stream = "stdout" | "stderr";

export class LogWriter {
  private fd: number;
  private size: number;
  private partial: Record<Stream, string> = { stdout: "", stderr: "" };
  private readonly decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };

  constructor(
    private readonly fs: Fs,
    private readonly path: string,
    private readonly opts: LogOpts,
  ) {
    this.fd = fs.openSync(path, "a", 0o600);
    this.size = fs.fstatSync(this.fd).size;
  }

  /** Appends a chunk; complete lines are written now, the rest with the next chunk. */
  write(stream: Stream, chunk: Uint8Array) {
    const lines = (this.partial[stream] + this.decoders[stream].decode(chunk, { stream: true })).split("\n");
    this.partial[stream] = lines.pop()!;
    for (const l of lines) this.line(stream, `${l}\n`);
  }

  close() {
    for (const s of ["stdout", "stderr"] as const) if (this.partial[s]) this.line(s, this.partial[s]);
    this.fs.closeSync(this.fd);
  }

  private line(stream: Stream, log: string) {
    const text = `${JSON.stringify({ stream, time: new Date().toISOString(), log })}\n`;
    const bytes = Buffer.byteLength(text);
    if (this.size > 0 && this.size + bytes > this.opts.maxSize) this.rotate();
    this.fs.writeSync(this.fd, text);
    this.size += bytes;
  }

  private rotate() {
    this.fs.closeSync(this.fd);
    for (let i = this.opts.maxFile - 1; i >= 1; i--) {
      const from = i === 1 ? this.path : `${this.path}.${i - 1}`;
      if (this.fs.existsSync(from)) this.fs.renameSync(from, `${this.path}.${i}`);
    }
    if (this.opts.maxFile === 1) this.fs.rmSync(this.path, { force: true });
    this.fd = this.fs.openSync(this.path, "a", 0o600);
    this.size = 0;
  }
}

/** The container's stdio for the supervisor: stdin empty, stdout and stderr into the log. */
export async function logIo(path: string, opts: LogOpts): Promise<ContainerIo> {
  const fs = await import("node:fs");
  const [stdin, feed] = pipe();
  close(feed); // the container reads EOF
  const out = pipe();
  const err = pipe();
  const writer = new LogWriter(fs, path, opts);
  let done: Promise<void> = Promise.resolve();
  return {
    fds: [stdin, out[1], err[1]],
    ctty: false,
    afterSpawn: () => [stdin, out[1], err[1]].forEach(close),
    start() {
      done = Promise.all([copyOut(fs, out[0], (c) => writer.write("stdout", c)), copyOut(fs, err[0], (c) => writer.write("stderr", c))]).then(() =>
        writer.close(),
      );
    },
    drained: () => done,
    restore() {},
  };
}

/** The log's files, oldest first. */
export function logFiles(fs: Fs, path: string): string[] {
  const rotated: string[] = [];
  for (let i = 1; fs.existsSync(`${path}.${i}`); i++) rotated.unshift(`${path}.${i}`);
  return fs.existsSync(path) ? [...rotated, path] : rotated;
}

/** Splits log text into its records; a trailing incomplete line is returned as `rest`. */
export function parseLog(text: string): { records: { stream: Stream; log: string }[]; rest: string } {
  const lines = text.split("\n");
  const rest = lines.pop()!;
  const records = lines.flatMap((l) => {
    try {
      const r = JSON.parse(l) as { stream: Stream; log: string };
      return [r];
    } catch {
      return [];
    }
  });
  return { records, rest };
}

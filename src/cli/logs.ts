import { defineCommand } from "citty";
import { logFiles, parseLog, type Stream } from "../container/log-file";
import { MycfsError } from "../errors";
import { normalJit } from "../jit";
import { write } from "../native/lib";
import { isSupervised } from "../state/record";
import { parseOptions, str } from "./argv";
import { containerArgs, containerPositional, needArgs, oneContainer, stateDir } from "./containers";

const args = {
  ...containerArgs,
  follow: { type: "boolean", alias: "f", description: "keep printing new output until the container ends" },
  tail: { type: "string", valueHint: "N", description: "only the last N lines (default all)" },
} as const;

const out = (r: { stream: Stream; log: string }) => write(r.stream === "stdout" ? 1 : 2, r.log);

export default defineCommand({
  meta: { name: "logs", description: "Print what a detached container wrote to stdout and stderr, each on its own stream." },
  args: { ...args, ...containerPositional },
  async run({ rawArgs }) {
    const { values: v, positionals } = parseOptions("logs", args, rawArgs);
    const [ref] = needArgs("logs", positionals, "a container id or name");
    const tail = str(v.tail);
    if (tail !== undefined && !/^\d+$/.test(tail)) throw new MycfsError(`--tail ${tail}: expected a number of lines`);
    const s = oneContainer(v, ref!);
    if (!s.detached) throw new MycfsError(`container ${ref} runs in the foreground: its output goes to the terminal that started it, not to a log`);
    normalJit(); // a log can be long
    const fs = await import("node:fs");
    const path = stateDir(v).logPath(s.id);
    const files = logFiles(fs, path);
    const contents = files.map((f) => fs.readFileSync(f));
    const { records, rest: partial } = parseLog(Buffer.concat(contents).toString("utf8"));
    records.slice(tail === undefined ? 0 : Math.max(0, records.length - Number(tail))).forEach(out);
    if (!v.follow) return;
    // Follow the current file from where the reading above ended; on rotation, finish the
    // old file (still open here) and go on with the new one.
    const running = () => isSupervised(stateDir(v).read(s.id) ?? { ...s, status: "exited" });
    // the log file is missing only for the moment of a rotation
    while (!fs.existsSync(path)) {
      if (!running()) return;
      await Bun.sleep(20);
    }
    let fd = fs.openSync(path, "r");
    let pos = files.at(-1) === path ? contents.at(-1)!.length : 0;
    let rest = partial;
    const buf = Buffer.alloc(65536);
    const utf8 = new TextDecoder();
    const drain = () => {
      for (let n: number; (n = fs.readSync(fd, buf, 0, buf.length, pos)) > 0; pos += n) {
        const parsed = parseLog(rest + utf8.decode(buf.subarray(0, n), { stream: true }));
        parsed.records.forEach(out);
        rest = parsed.rest;
      }
    };
    for (;;) {
      const more = running();
      drain();
      if (fs.existsSync(path) && fs.statSync(path).ino !== fs.fstatSync(fd).ino) {
        drain();
        fs.closeSync(fd);
        fd = fs.openSync(path, "r");
        pos = 0;
        continue;
      }
      if (!more) break;
      await Bun.sleep(100);
    }
    fs.closeSync(fd);
  },
});

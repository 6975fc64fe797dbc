// consola, writing one plain line per message to fd 2 (stdout belongs to the container
// and to data output), so that errors read as `mycfs: what failed: why`. It writes with
// writeSync rather than through process.stderr: creating Node's stdio streams costs
// several milliseconds at every start, and mycfs starts containers in a few.
import { createConsola, type ConsolaReporter } from "consola/core";
import { writeSync } from "node:fs";

const prefix: Record<string, string> = { warn: "warning: ", debug: "debug: ", trace: "trace: " };

const line: ConsolaReporter = {
  log(obj) {
    const text = obj.args.map((a) => (a instanceof Error ? (a.stack ?? a.message) : String(a))).join(" ");
    writeSync(2, `mycfs: ${prefix[obj.type] ?? ""}${text}\n`);
  },
};

export const log = createConsola({ reporters: [line], level: 3 });

export function setDebug(on: boolean) {
  if (on) log.level = 4;
}

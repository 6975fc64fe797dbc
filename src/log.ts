// consola, writing to stderr only (stdout belongs to the container and to data output),
// one plain line per message so that errors read as `mycfs: what failed: why`.
import { createConsola, type ConsolaReporter } from "consola";
import { formatWithOptions } from "node:util";

const prefix: Record<string, string> = { error: "", fatal: "", warn: "warning: ", debug: "debug: ", trace: "trace: " };

const line: ConsolaReporter = {
  log(obj) {
    const text = formatWithOptions({ colors: false }, ...obj.args);
    process.stderr.write(`mycfs: ${prefix[obj.type] ?? ""}${text}\n`);
  },
};

export const log = createConsola({ reporters: [line] });

export function setDebug(on: boolean) {
  if (on) log.level = 4;
}

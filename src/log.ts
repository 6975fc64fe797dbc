// consola, writing one plain line per message to fd 2 (stdout belongs to the container
// and to data output), so that errors read as `mycfs: what failed: why`. Created on first
// use and written with a plain write(2): Node's stdio streams and node:fs cost
// milliseconds to load, more than a container takes to start.
import { createConsola, type ConsolaInstance, type ConsolaReporter } from "consola/core";
import { write } from "./native/lib";

const prefix: Record<string, string> = { warn: "warning: ", debug: "debug: ", trace: "trace: " };

const line: ConsolaReporter = {
  log(obj) {
    const text = obj.args.map((a) => (a instanceof Error ? (a.stack ?? a.message) : String(a))).join(" ");
    write(2, `mycfs: ${prefix[obj.type] ?? ""}${text}\n`);
  },
};

let instance: ConsolaInstance | undefined;
let level = 3;

/** The logger; `log.debug(...)` arguments are cheap to build only when `debugging`. */
export const log = new Proxy({} as ConsolaInstance, {
  get: (_, key) => {
    instance ??= createConsola({ reporters: [line], level });
    return instance[key as keyof ConsolaInstance];
  },
});

export let debugging = false;

export function setDebug(on: boolean) {
  debugging = on;
  level = on ? 4 : 3;
  if (instance) instance.level = level;
}

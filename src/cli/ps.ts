import { defineCommand } from "citty";
import { MycfsError } from "../errors";
import { shortId, type ContainerState } from "../state/record";
import { parseOptions, str } from "./argv";
import { allContainers, containerArgs } from "./containers";
import { networkText } from "../network/mode";

const args = {
  ...containerArgs,
  all: { type: "boolean", alias: "a", description: "every container, not only running ones" },
  quiet: { type: "boolean", alias: "q", description: "ids only" },
  format: { type: "string", valueHint: "table|json", description: "output format (default table)" },
} as const;

/** "3 seconds", "5 minutes", "2 hours", "4 days": docker's rounding down. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const [n, unit] =
    s < 60 ? [s, "second"] : s < 3600 ? [Math.floor(s / 60), "minute"] : s < 86400 ? [Math.floor(s / 3600), "hour"] : [Math.floor(s / 86400), "day"];
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}

const since = (iso: string | undefined) => duration(Date.now() - Date.parse(iso ?? ""));

export function statusText(s: ContainerState): string {
  if (s.status === "created") return "Created";
  if (s.status === "running") return `Up ${since(s.started)}`;
  return `Exited (${s.exitCode ?? "?"}) ${since(s.finished)} ago`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3)))
        .join("")
        .trimEnd(),
    )
    .join("\n");
}

function command(argv: string[]): string {
  const text = argv.map((a) => (/^[\w./:=@%+-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(" ");
  return JSON.stringify(text.length > 30 ? `${text.slice(0, 29)}…` : text);
}

export default defineCommand({
  meta: { name: "ps", description: "List containers: running ones, or every one with -a." },
  args,
  async run({ rawArgs }) {
    const { values: v, positionals } = parseOptions("ps", args, rawArgs);
    if (positionals.length) throw new MycfsError(`'mycfs ps' takes no arguments; see 'mycfs ps --help'`);
    const format = str(v.format) ?? "table";
    if (format !== "table" && format !== "json") throw new MycfsError(`--format ${format}: expected table or json`);
    const list = allContainers(v)
      .filter((s) => v.all === true || s.status !== "exited")
      .sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0)); // ISO times; localeCompare loads ICU
    if (v.quiet) {
      for (const s of list) console.log(shortId(s.id));
      return;
    }
    if (format === "json")
      return void console.log(
        JSON.stringify(
          list.map((s) => ({ ...s, statusText: statusText(s) })),
          null,
          2,
        ),
      );
    console.log(
      table([
        ["CONTAINER ID", "NAME", "IMAGE", "COMMAND", "CREATED", "STATUS", "NETWORK", "PID"],
        ...list.map((s) => [
          shortId(s.id),
          s.name ?? "",
          s.image,
          command(s.command),
          `${since(s.created)} ago`,
          statusText(s),
          networkText(s.network),
          s.status === "running" ? String(s.container?.pid ?? "") : "",
        ]),
      ]),
    );
  },
});

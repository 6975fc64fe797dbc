import { defineCommand } from "citty";
import { hostCgroupFs } from "../cgroups/cgroup";
import { cgroupUsage } from "../cgroups/usage";
import { MycfsError } from "../errors";
import { readFile } from "../native/lib";
import { isSupervised } from "../state/record";
import { parseOptions, str } from "./argv";
import { containerArgs, containerPositional, needArgs, oneContainer } from "./containers";

const args = {
  ...containerArgs,
  format: { type: "string", valueHint: "table|json", description: "output format (default table)" },
} as const;

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

/** One process as ps shows it, from /proc (host pids: the container's own are in its namespace). */
function processRow(pid: number) {
  const stat = readFile(`/proc/${pid}/stat`, 4096);
  if (!stat) return null;
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(f[11]) + Number(f[12]); // utime + stime, in USER_HZ (100)
  const cmd = (readFile(`/proc/${pid}/cmdline`) ?? "").split("\0").filter(Boolean).join(" ") || stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
  return { pid, ppid: Number(f[1]), state: f[0]!, cpuSeconds: ticks / 100, command: cmd };
}

export default defineCommand({
  meta: { name: "top", description: "Show a running container's processes and what its cgroup uses: memory, CPU, pids." },
  args: { ...args, ...containerPositional },
  async run({ rawArgs }) {
    const { values: v, positionals } = parseOptions("top", args, rawArgs);
    const [ref] = needArgs("top", positionals, "a container id or name");
    const s = oneContainer(v, ref!);
    if (!isSupervised(s) || s.status !== "running") throw new MycfsError(`container ${ref} is not running`);
    const u = s.cgroup ? cgroupUsage(hostCgroupFs, s.cgroup.layout, s.cgroup.name) : { procs: [s.container!.pid] };
    const procs = u.procs.flatMap((p) => processRow(p) ?? []);
    if (str(v.format) === "json") return void console.log(JSON.stringify({ ...u, procs }, null, 2));
    const of = (x: string, l: string | null) => `${x} / ${l ?? "unlimited"}`;
    console.log(
      [
        u.memory && `MEMORY ${of(mib(u.memory.bytes), u.memory.limit === null ? null : mib(u.memory.limit))}`,
        u.cpuSeconds !== undefined && `CPU ${u.cpuSeconds.toFixed(2)} s`,
        u.pids && `PIDS ${of(String(u.pids.count), u.pids.limit === null ? null : String(u.pids.limit))}`,
      ]
        .filter(Boolean)
        .join("   "),
    );
    const rows = [
      ["PID", "PPID", "STAT", "TIME", "COMMAND"],
      ...procs.map((p) => [String(p.pid), String(p.ppid), p.state, `${p.cpuSeconds.toFixed(2)}s`, p.command]),
    ];
    console.log(rows.map((r) => r.map((c, i) => (i < 4 ? c.padEnd(9) : c)).join("")).join("\n"));
  },
});

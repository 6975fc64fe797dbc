// `mycfs run` with resource limits, docker's capabilities and the default seccomp filter,
// against `runc run` with the same configuration, in one run; and what the cgroup and
// the filter each add to mycfs's start. Runs on the host's own cgroups (hybrid here),
// below this process's cgroup.
//   sudo bun bench/limits.ts [ROUNDS]     (npm run bench:limits builds dist/mycfs first)
// Targets (issue "Resource limits and least privilege"): still ≤ 0.5× runc; cgroup setup
// adds ≤ 3 ms.
import { $ } from "bun";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_CAPS } from "../src/container/caps";
import { ARCHES } from "../src/seccomp/arch";
import { applicableRules } from "../src/seccomp/compile";
import { defaultProfile } from "../src/seccomp/default";
import { hostArch } from "../src/seccomp/filter";
import { busyboxBundle, median, MYCFS, mycfsRun, need, privateState, table, time } from "./lib";

const rounds = Number(process.argv[2] ?? 50);
if (!existsSync(MYCFS)) throw new Error("dist/mycfs is missing: run `npm run build` first");
await need({ runc: "runc", hyperfine: "hyperfine" });

const LIMITS = ["--memory", "64m", "--pids-limit", "100", "--cpus", "1"];

/** Docker's default profile for docker's default capabilities, as an OCI seccomp section. */
function ociSeccomp() {
  const caps = new Set(DEFAULT_CAPS.map((c) => `CAP_${c}`));
  const profile = defaultProfile();
  return {
    defaultAction: profile.defaultAction,
    defaultErrnoRet: profile.defaultErrnoRet ?? 1,
    architectures: [hostArch() === "x86_64" ? "SCMP_ARCH_X86_64" : "SCMP_ARCH_AARCH64"],
    syscalls: applicableRules(profile, ARCHES[hostArch()], caps).map((r) => ({
      names: r.names,
      action: r.action,
      ...(r.errnoRet === undefined ? {} : { errnoRet: r.errnoRet }),
      ...(r.args ? { args: r.args.map((a) => ({ index: a.index, value: Number(a.value), valueTwo: Number(a.valueTwo ?? 0n), op: a.op })) } : {}),
    })),
  };
}

const dir = mkdtempSync(join(tmpdir(), "mycfs-bench-"));
privateState(dir);
// runc takes one cgroups path for every hierarchy: below our own memory cgroup (the only
// one that is not the root here), and so below our own in every hierarchy
const own = /^\d+:memory:(.*)$/m.exec(readFileSync("/proc/self/cgroup", "utf8"))?.[1] ?? "/";
const runcCgroup = `${own === "/" ? "" : own}/mycfs-bench-runc`;
try {
  const caps = DEFAULT_CAPS.map((c) => `CAP_${c}`);
  const rootfs = await busyboxBundle(dir, (spec) => {
    spec.process.noNewPrivileges = true;
    spec.process.capabilities = { bounding: caps, effective: caps, permitted: caps };
    spec.linux.cgroupsPath = runcCgroup;
    spec.linux.resources = { memory: { limit: 64 * 1024 * 1024, swap: 128 * 1024 * 1024 }, pids: { limit: 100 }, cpu: { quota: 100000, period: 100000 } };
    spec.linux.seccomp = ociSeccomp();
  });
  const times = await time(
    {
      "mycfs run (limits, seccomp)": mycfsRun("--rootfs", rootfs, ...LIMITS, "true"),
      "mycfs run (seccomp, no limits)": mycfsRun("--rootfs", rootfs, "true"),
      "mycfs run (limits, no seccomp)": mycfsRun("--rootfs", rootfs, ...LIMITS, "--security-opt", "seccomp=unconfined", "true"),
      "runc run (limits, seccomp)": ["runc", "--root", join(dir, "oci-state"), "run", "-b", dir, "mycfs-bench-runc"],
    },
    rounds,
  );
  console.log(
    `\nStart to exit of \`true\` with --memory 64m --pids-limit 100 --cpus 1, docker's capabilities and seccomp profile; ${rounds} runs each (${new Date().toISOString().slice(0, 10)}):\n`,
  );
  console.log(table(times, "mycfs run (limits, seccomp)"));
  // The cgroup's share of the start, as mycfs reports it: the child's join steps, and the
  // parent's creation and removal (the difference of runs with and without limits).
  const debug = await $`${mycfsRun("--debug", "--rootfs", rootfs, ...LIMITS, "true")}`.quiet();
  const joins = [...debug.stderr.toString().matchAll(/join the container's cgroup.*: ([\d.]+) ms/g)].reduce((s, m) => s + Number(m[1]), 0);
  const extra = median(times.get("mycfs run (limits, seccomp)")!) - median(times.get("mycfs run (seccomp, no limits)")!);
  console.log(`\ncgroup: the child's joins take ${joins.toFixed(2)} ms; writing three limits adds ${extra.toFixed(2)} ms to a run`);
} finally {
  rmSync(dir, { recursive: true, force: true });
  // runc removes its leaf cgroup, not the parents it made for it
  for (const h of readFileSync("/proc/self/mountinfo", "utf8").matchAll(/ (\/sys\/fs\/cgroup\/[^ ]+) [^-]*- cgroup /g))
    await $`rmdir ${h[1]}${runcCgroup}`.quiet().nothrow();
}

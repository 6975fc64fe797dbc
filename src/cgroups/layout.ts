// Where each cgroup controller lives on this host: cgroup v2 (unified), v1 (one
// hierarchy per controller or group of them), or hybrid (v1 controllers plus a v2 mount
// with few controllers). Pure parsing of /proc/self/mountinfo and /proc/self/cgroup, so
// every layout can be tested without one.

export interface Hierarchy {
  version: 1 | 2;
  /** Where the hierarchy is mounted, e.g. /sys/fs/cgroup/memory. */
  mount: string;
  /** v1: the mount's controllers (empty for a named one); v2: those usable below our cgroup. */
  controllers: string[];
  /** v1 mount options that select the hierarchy: "memory", "cpu,cpuacct", "none,name=systemd". */
  options: string;
  /** Our own cgroup's directory in it: containers go below. */
  own: string;
}

export type Mode = "v2" | "v1" | "hybrid";

export interface Layout {
  mode: Mode;
  hierarchies: Hierarchy[];
}

const V1_CONTROLLERS = new Set([
  "cpu",
  "cpuacct",
  "cpuset",
  "memory",
  "devices",
  "freezer",
  "net_cls",
  "net_prio",
  "blkio",
  "perf_event",
  "hugetlb",
  "pids",
  "rdma",
  "misc",
]);

/** `enabled(dir)`: the controllers enabled for children of a v2 cgroup (its cgroup.subtree_control). */
export function parseLayout(mountinfo: string, procCgroup: string, enabled: (dir: string) => string[]): Layout {
  // "4:memory:/a/b" -> {"memory": "/a/b"}; "0::/x" -> {"": "/x"}
  const ownPath = new Map<string, string>();
  for (const line of procCgroup.split("\n")) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (m) ownPath.set(m[1]!, m[2]!);
  }
  const hierarchies: Hierarchy[] = [];
  const seen = new Set<string>();
  // Run once per start, all of it cold: only cgroup lines are taken apart (0.6 ms less).
  const lines = mountinfo.split("\n");
  const points = lines.map((l) => field(l, 4));
  // a later mount on the same place or above it hides this one (e.g. cgroup2 mounted over
  // a v1 tree): its path now leads elsewhere
  const hidden = (i: number) => {
    for (let j = i + 1; j < points.length; j++) {
      const p = points[j]!;
      if (p !== "" && (points[i] === p || points[i]!.startsWith(p === "/" ? "/" : `${p}/`))) return true;
    }
    return false;
  };
  for (const [i, line] of lines.entries()) {
    const dash = line.indexOf(" - ");
    if (dash < 0 || !line.startsWith("cgroup", dash + 3) || hidden(i)) continue;
    const root = field(line, 3),
      mount = points[i]!;
    const [fstype, , superOpts = ""] = line.slice(dash + 3).split(" ");
    if ((fstype !== "cgroup" && fstype !== "cgroup2") || !root || !mount) continue;
    const key =
      fstype === "cgroup2"
        ? ""
        : superOpts
            .split(",")
            .filter((o) => V1_CONTROLLERS.has(o) || o.startsWith("name="))
            .sort()
            .join(",");
    if (seen.has(key)) continue; // the same hierarchy mounted twice
    const path = ownPath.get(key) ?? [...ownPath].find(([k]) => k.split(",").sort().join(",") === key)?.[1];
    if (path === undefined) continue;
    seen.add(key);
    // A mount of a sub-tree (inside another container) shows paths relative to its root.
    const rel = root === "/" ? path : path.startsWith(root) ? path.slice(root.length) || "/" : path;
    const own = `${mount}${rel === "/" ? "" : rel}`;
    if (fstype === "cgroup2") hierarchies.push({ version: 2, mount, controllers: enabled(own), options: "", own });
    else {
      const controllers = key.split(",").filter((c) => V1_CONTROLLERS.has(c));
      hierarchies.push({ version: 1, mount, controllers, options: controllers.length ? controllers.join(",") : `none,${key}`, own });
    }
  }
  const v1 = hierarchies.some((h) => h.version === 1);
  const v2 = hierarchies.some((h) => h.version === 2);
  return { mode: v1 && v2 ? "hybrid" : v1 ? "v1" : "v2", hierarchies };
}

/** The n-th space-separated field of a mountinfo line (from 0), or "". */
function field(line: string, n: number): string {
  let start = 0;
  for (let k = 0; k < n; k++) {
    start = line.indexOf(" ", start) + 1;
    if (start === 0) return "";
  }
  const end = line.indexOf(" ", start);
  return end < 0 ? "" : line.slice(start, end);
}

/** The hierarchy that drives a controller: v2 where it is usable there, else its v1 one. */
export function holder(layout: Layout, controller: string): Hierarchy | undefined {
  return (
    layout.hierarchies.find((h) => h.version === 2 && h.controllers.includes(controller)) ??
    layout.hierarchies.find((h) => h.version === 1 && h.controllers.includes(controller))
  );
}

// Limits and least privilege, seen from inside real containers on this host (cgroup
// hybrid mode here); the v2 logic is covered by test/cgroups.unit.test.ts on a fake tree.
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { childrenOf, imageDir, MYCFS, mycfs, mycfsCgroups, PROBE, startUntil, testStore } from "./helpers";

const store = testStore("limits");
afterAll(store.cleanup);
const run = (args: string[], cmd: string[]) => mycfs(["run", "--root", store.root, "-v", `${PROBE}:/probe:ro`, ...args, "busybox", ...cmd]);
const status = async (args: string[] = []) => Object.fromEntries((await run(args, ["cat", "/proc/self/status"])).stdout.split("\n").map((l) => l.split(":\t")));

describe("resource limits", () => {
  test("past --memory the kernel OOM-kills the container: exit 137, and mycfs says so", async () => {
    const r = await run(["--memory", "32m", "--memory-swap", "32m"], ["/probe", "alloc", "200"]);
    expect(r.code).toBe(137);
    expect(Number(r.stdout.trim().split("\n").at(-1))).toBeLessThan(40);
    expect(r.stderr).toContain("the container ran out of memory");
  });

  test("a plain kill -9 is 137 too, but not reported as out of memory", async () => {
    const c = await startUntil(["run", "--root", store.root, "--memory", "64m", "busybox", "sh", "-c", "echo ready; sleep 30"]);
    process.kill(childrenOf(c.proc.pid)[0]!, "SIGKILL");
    expect(await c.proc.exited).toBe(137);
    expect(await c.stderr()).toBe("");
  });

  test("a fork loop stops at --pids-limit", async () => {
    const r = await run(["--pids-limit", "20"], ["/probe", "forks", "50"]);
    expect(JSON.parse(r.stdout).started).toBeLessThan(20);
  });

  test("--cpus 0.5 gives about half a CPU over a second", async () => {
    const { cpu } = JSON.parse((await run(["--cpus", "0.5"], ["/probe", "burn", "1"])).stdout);
    expect(cpu).toBeGreaterThan(0.15);
    expect(cpu).toBeLessThan(0.75);
  });

  test("--ulimit sets the limits; the default keeps 1024 open files", async () => {
    expect((await run(["--ulimit", "nofile=512:1000"], ["sh", "-c", "ulimit -n; ulimit -Hn"])).stdout).toBe("512\n1000\n");
    expect((await run([], ["sh", "-c", "ulimit -n"])).stdout).toBe("1024\n");
  });

  test("--blkio-weight where the host's I/O scheduler has a weight", async () => {
    const r = await run(["--blkio-weight", "300"], ["sh", "-c", "cat /sys/fs/cgroup/blkio/blkio*weight 2>/dev/null || cat /sys/fs/cgroup/io.*weight"]);
    if (r.code === 125) expect(r.stderr).toMatch(/^mycfs: --blkio-weight: .*; run without --blkio-weight\n$/);
    else expect(r.stdout).toMatch(/300/);
  });

  test("each container has its own cgroup namespace, rooted at its own cgroup", async () => {
    const own = (await run([], ["cat", "/proc/self/cgroup"])).stdout.trim().split("\n");
    expect(own.every((l) => l.endsWith(":/"))).toBe(true);
    const host = (await run(["--cgroupns", "host"], ["cat", "/proc/self/cgroup"])).stdout;
    expect(host).toMatch(/mycfs-[0-9a-f]{12}/);
    const ls = (await run([], ["ls", "/sys/fs/cgroup"])).stdout;
    expect(ls).toContain("memory");
  });

  test("mycfs inside mycfs: --privileged gives writable cgroups; elsewhere no limit, no cgroup (one warning), or a clear error", async () => {
    // the executable needs the host's C library; the inner root is the image, bound read-only
    expect((await run([], ["true"])).code).toBe(0); // the image, in the store
    const inside = ["-v", "/lib:/lib:ro", "-v", "/lib64:/lib64:ro", "-v", `${MYCFS}:/mycfs:ro`, "-v", `${imageDir(store.root)}:/inner:ro`, "busybox"];
    // (the inner mycfs has no nft: it says so before running on none; asked for, it does not)
    const inner = ["/mycfs", "run", "--rm", "--network", "none"];
    const nested = await mycfs([
      "run",
      "--rm",
      "--root",
      store.root,
      "--privileged",
      ...inside,
      ...inner,
      "--memory",
      "64m",
      "--rootfs",
      "/inner",
      "sh",
      "-c",
      "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max",
    ]);
    expect(nested.stdout.trim()).toBe(String(64 * 1024 * 1024));
    expect(nested.code).toBe(0);
    // all capabilities and no seccomp filter, but not --privileged: /sys/fs/cgroup stays read-only
    const loose = ["run", "--rm", "--root", store.root, "--cap-add", "ALL", "--security-opt", "seccomp=unconfined", ...inside];
    const plain = await mycfs([...loose, ...inner, "--rootfs", "/inner", "echo", "ran"]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toBe("ran\n");
    expect(plain.stderr).toMatch(
      /^mycfs: warning: the container's cgroup cannot be made in \/sys\/fs\/cgroup\/\S+: Read-only file system \(EROFS\): it runs without one \(no accounting, no OOM report, no device allow-list\)\n$/,
    );
    const limited = await mycfs([...loose, ...inner, "--memory", "64m", "--pids-limit", "10", "--rootfs", "/inner", "true"]);
    expect(limited.code).toBe(125);
    expect(limited.stderr).toMatch(
      /^mycfs: --memory, --pids-limit: the container's cgroup cannot be made in \/sys\/fs\/cgroup\/\S+: Read-only file system \(EROFS\); run without limits, or where the cgroup tree is writable \(inside a container: --privileged\)\n$/,
    );
  });

  test("no cgroup directory outlives its container", async () => {
    const r = await run(["--memory", "64m", "--pids-limit", "10", "--cgroupns", "host"], ["cat", "/proc/self/cgroup"]);
    const name = /mycfs-[0-9a-f]{12}/.exec(r.stdout)![0];
    expect(mycfsCgroups().filter((d) => d.endsWith(name))).toEqual([]);
  });
});

describe("least privilege", () => {
  test("docker's capabilities, no_new_privs, and an empty ambient set", async () => {
    const s = await status();
    expect([s.CapEff, s.CapPrm, s.CapBnd, s.CapInh, s.CapAmb]).toEqual([
      "00000000a80425fb",
      "00000000a80425fb",
      "00000000a80425fb",
      "0000000000000000",
      "0000000000000000",
    ]);
    expect(s.NoNewPrivs).toBe("1");
    expect((await status(["--security-opt", "no-new-privileges=false"])).NoNewPrivs).toBe("0");
  });

  test("--cap-drop and --cap-add change the set; --privileged keeps all and warns", async () => {
    expect((await status(["--cap-drop", "ALL", "--cap-add", "KILL"])).CapEff).toBe("0000000000000020");
    const priv = await run(["--privileged"], ["grep", "CapEff", "/proc/self/status"]);
    // all of mycfs's own: this sandbox may lack some (CAP_SYS_RESOURCE here)
    const bounding = /^CapBnd:\s*(\w+)$/m.exec(readFileSync("/proc/self/status", "utf8"))![1];
    expect(priv.stdout).toBe(`CapEff:\t${bounding}\n`);
    expect(priv.stderr).toContain("--privileged");
  });

  test("privileged operations fail with EPERM; --cap-add SYS_ADMIN restores mount and unshare", async () => {
    const EPERM = 1;
    const denied = JSON.parse((await run([], ["/probe", "denied"])).stdout);
    for (const op of ["mount", "unshare_user", "keyctl", "reboot", "init_module", "kexec_load", "tiocsti", "sethostname"])
      expect([op, denied[op]]).toEqual([op, EPERM]);
    expect([2, EPERM]).toContain(denied.sysrq); // read-only, or absent from this kernel
    expect([2, EPERM]).toContain(denied.kcore); // masked, or absent from this kernel
    const admin = JSON.parse((await run(["--cap-add", "SYS_ADMIN"], ["/probe", "denied"])).stdout);
    expect([admin.mount, admin.unshare_user, admin.keyctl]).toEqual([0, 0, EPERM]);
  });

  test("seccomp: the default filter is on; unconfined and a Docker JSON profile replace it", async () => {
    expect((await status()).Seccomp).toBe("2");
    expect((await status(["--security-opt", "seccomp=unconfined"])).Seccomp).toBe("0");
    const profile = join(store.dir, "no-mkdir.json");
    writeFileSync(profile, JSON.stringify({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO" }] }));
    const r = await run(["--security-opt", `seccomp=${profile}`], ["sh", "-c", "mkdir /tmp/x || echo refused"]);
    expect(r.stdout).toBe("refused\n");
    writeFileSync(profile, "{ not json");
    const bad = await run(["--security-opt", `seccomp=${profile}`], ["true"]);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toStartWith(`mycfs: seccomp profile ${profile}: not valid JSON`);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
  });

  test("/proc/sys is read-only and the masked paths show nothing of the host", async () => {
    const r = await run([], ["sh", "-c", "echo 1 > /proc/sys/kernel/domainname; cat /proc/keys | wc -c; ls /sys/firmware | wc -l"]);
    expect(r.stderr).toContain("Read-only file system");
    expect(r.stdout).toBe("0\n0\n");
  });

  test("bad limits and capabilities: one line, exit 125", async () => {
    for (const [args, message] of [
      [["--memory", "abc"], "mycfs: --memory abc: expected a size such as 64m, 512k or 1g\n"],
      [["--cpus", "-1"], "mycfs: --cpus -1: expected a positive number of CPUs, e.g. 0.5\n"],
      [["--cap-add", "FLY"], "mycfs: --cap-add FLY: unknown capability; use a name from capabilities(7), e.g. NET_ADMIN, or ALL\n"],
      [["--memory-swap", "1g"], "mycfs: --memory-swap needs --memory as well\n"],
    ] as const) {
      const r = await run([...args], ["true"]);
      expect(r.code).toBe(125);
      if (typeof message === "string") expect(r.stderr).toBe(message);
      else expect(r.stderr).toMatch(message);
    }
  });
});

// Each isolation proven from both sides: what the container sees, and what the host sees.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { childrenOf, imageDir, isRunning, MYCFS, mycfs, mycfsCgroups, probe, startUntil, testStore } from "./helpers";

const store = testStore("isolation");
afterAll(store.cleanup);
const run = (args: string[], cmd: string[], stdin?: string) => mycfs(["run", "--root", store.root, ...args, "busybox", ...cmd], { stdin });
const sh = (script: string, args: string[] = []) => run(args, ["sh", "-c", script]);

describe("isolation", () => {
  test("its own hostname; the host's is unchanged", async () => {
    const before = hostname();
    expect((await probe(store.root)).hostname).toMatch(/^[0-9a-f]{12}$/);
    expect((await probe(store.root, ["--hostname", "box"])).hostname).toBe("box");
    expect(hostname()).toBe(before);
  });

  test("the command is PID 1 and ps lists only the container's processes", async () => {
    const facts = await probe(store.root);
    expect([facts.pid, facts.ppid]).toEqual([1, 0]);
    const ps = await sh("ps -o pid,comm; true"); // `; true`: sh would exec a lone command
    expect(
      ps.stdout
        .trim()
        .split("\n")
        .slice(1)
        .map((l) => l.trim().split(/\s+/)[1]),
    ).toEqual(["sh", "ps"]);
  });

  test("every namespace differs from the host's (but the user namespace, a later mode, and time: no clock offsets)", async () => {
    const { ns } = await probe(store.root);
    for (const kind of ["mnt", "uts", "ipc", "pid", "net", "cgroup"]) expect(ns[kind]).not.toBe(readlinkSync(`/proc/self/ns/${kind}`));
    expect(ns.user).toBe(readlinkSync("/proc/self/ns/user"));
  });

  test("mounts made inside never appear on the host", async () => {
    const c = await startUntil([
      "run",
      "--root",
      store.root,
      "--cap-add",
      "SYS_ADMIN",
      "busybox",
      "sh",
      "-c",
      "mkdir -p /mnt && mount -t tmpfs inner-mycfs-test /mnt && echo ready && sleep 0.5",
    ]);
    try {
      const host = readFileSync("/proc/self/mountinfo", "utf8");
      expect(host).not.toContain("inner-mycfs-test");
      expect(host).not.toContain(store.root);
    } finally {
      expect(await c.proc.exited).toBe(0);
    }
  });

  test("the host's root is not reachable: only the container's mounts, no old root", async () => {
    const marker = join(store.dir, `host-marker-${process.pid}`);
    writeFileSync(marker, "host");
    const { mounts } = await probe(store.root, ["--privileged"]); // no masked paths, no cgroup mounts' noise
    expect(mounts.filter((m: string) => !m.startsWith("/sys/fs/cgroup"))).toEqual([
      "/",
      "/proc",
      "/dev",
      "/dev/pts",
      "/dev/shm",
      "/dev/mqueue",
      "/sys",
      "/tmp",
      "/probe",
      "/etc/hostname",
      "/etc/hosts",
      "/etc/resolv.conf",
    ]);
    const find = await sh(`find / -path /proc -prune -o -path /sys -prune -o -name ${JSON.stringify(marker.split("/").pop())} -print`);
    expect(find.stdout).toBe("");
  });

  test("only lo, and it is up, in the network namespace (--network none); eth0 beside it on the default bridge", async () => {
    expect((await probe(store.root, ["--network", "none"])).netifs).toEqual(["lo"]);
    expect((await probe(store.root)).netifs.sort()).toEqual(["eth0", "lo"]);
    const r = await sh("cat /sys/class/net/lo/operstate /sys/class/net/lo/flags");
    expect(parseInt(r.stdout.trim().split("\n")[1]!, 16) & 1).toBe(1);
  });

  test("the command starts with default signal dispositions, none ignored or blocked", async () => {
    const r = await run([], ["grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"]);
    expect(r.stdout).toBe("SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
  });

  test("only fds 0, 1 and 2 reach the command", async () => {
    expect((await probe(store.root)).fds).toEqual(["0", "1", "2"]);
  });

  test("/dev has the usual nodes and links, /sys is read-only, /tmp is a tmpfs", async () => {
    const r = await sh("ls /dev; echo x > /dev/null && head -c 4 /dev/zero | wc -c; touch /sys/x 2>&1; grep ' /tmp ' /proc/mounts");
    for (const n of ["null", "zero", "full", "random", "urandom", "tty", "pts", "ptmx", "shm", "fd", "stdin", "stdout", "stderr"])
      expect(r.stdout.split("\n")).toContain(n);
    expect(r.stdout).toContain("4\n");
    expect(r.stdout).toContain("Read-only file system");
    expect(r.stdout).toContain("tmpfs /tmp tmpfs");
  });
});

describe("volumes", () => {
  const host = join(store.dir, "vol");
  mkdirSync(host, { recursive: true });
  writeFileSync(join(host, "from-host"), "hello");

  test("-v is visible and writable; :ro is read-only", async () => {
    const rw = await sh("cat /data/from-host && echo made > /data/from-container", ["-v", `${host}:/data`]);
    expect(rw).toMatchObject({ code: 0, stdout: "hello" });
    expect(readFileSync(join(host, "from-container"), "utf8")).toBe("made\n");
    const ro = await sh("cat /data/from-host; touch /data/nope", ["-v", `${host}:/data:ro`]);
    expect(ro.code).not.toBe(0);
    expect(ro.stderr).toContain("Read-only file system");
    expect(existsSync(join(host, "nope"))).toBe(false);
  });

  test("a single file can be mounted, and --tmpfs takes options", async () => {
    const r = await sh("cat /etc/greeting; grep ' /scratch ' /proc/mounts", [
      "-v",
      `${join(host, "from-host")}:/etc/greeting:ro`,
      "--tmpfs",
      "/scratch:size=1m",
    ]);
    expect(r.stdout).toStartWith("hello");
    expect(r.stdout).toContain("tmpfs /scratch tmpfs rw,nosuid,nodev,noexec");
    expect(r.stdout).toContain("size=1024k");
  });

  // a symlink on a mount target's path: test/security/cve-2021-30465.test.ts
});

describe("environment and working directory", () => {
  test("a clean default environment plus -e and --env-file, not the host's", async () => {
    const file = join(store.dir, "env-file");
    writeFileSync(file, "FROM_FILE=1\n");
    const r = await run(["-e", "A=b c", "--env-file", file, "--hostname", "envbox"], ["env"]);
    const env = r.stdout.trim().split("\n").sort();
    expect(env).toEqual([
      "A=b c",
      "FROM_FILE=1",
      "HOME=/root",
      "HOSTNAME=envbox",
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "TERM=dumb",
    ]);
  });

  test("-w creates and enters the directory", async () => {
    expect((await run(["-w", "/work/here"], ["pwd"])).stdout).toBe("/work/here\n");
  });

  test("-i passes stdin on, EOF included; without it the container's stdin is empty", async () => {
    expect((await run(["-i"], ["cat"], "piped\n")).stdout).toBe("piped\n");
    expect((await run([], ["cat"], "piped\n")).stdout).toBe("");
  });
});

describe("exit codes and signals", () => {
  test("0, 3, 127, 126 come back as docker's", async () => {
    expect((await sh("exit 0")).code).toBe(0);
    expect((await sh("exit 3")).code).toBe(3);
    const nf = await run([], ["no-such-command"]);
    expect(nf.code).toBe(127);
    expect(nf.stderr).toBe("mycfs: no-such-command: executable file not found in $PATH inside the container\n");
    const ne = await run([], ["/etc/passwd"]);
    expect(ne.code).toBe(126);
    expect(ne.stderr).toContain("/etc/passwd: cannot execute: Permission denied");
    // an empty command is refused before anything is made, with docker's code for it
    const containers = readdirSync(join(store.root, "containers"));
    expect(await run([], [""])).toEqual({
      code: 127,
      stdout: "",
      stderr: 'mycfs: the command is an empty string (""): name the program to run, e.g. mycfs run busybox sh\n',
    });
    expect(readdirSync(join(store.root, "containers"))).toEqual(containers);
  });

  test("death by signal 9 gives 137", async () => {
    const c = await startUntil(["run", "--root", store.root, "busybox", "sh", "-c", "echo ready; sleep 30"]);
    const [container] = childrenOf(c.proc.pid);
    process.kill(container!, "SIGKILL");
    expect(await c.proc.exited).toBe(137);
    // with --init the command is not PID 1, so it can even kill itself
    expect((await sh("kill -9 $$", ["--init"])).code).toBe(137);
  });

  test("SIGTERM to mycfs reaches the container", async () => {
    const c = await startUntil([
      "run",
      "--root",
      store.root,
      "busybox",
      "sh",
      "-c",
      "trap 'echo got TERM; exit 42' TERM; echo ready; while :; do sleep 0.05; done",
    ]);
    c.proc.kill("SIGTERM");
    expect(await c.proc.exited).toBe(42);
    expect(await c.output()).toContain("got TERM");
  });

  test("if mycfs dies, the container dies with it, and the next mycfs cleans up after both", async () => {
    const kept = readdirSync(join(store.root, "containers")); // other tests' kept containers
    const c = await startUntil(["run", "--rm", "--root", store.root, "--name", "orphan", "busybox", "sh", "-c", "echo ready; sleep 30"]);
    const [container] = childrenOf(c.proc.pid);
    const cgroup = /mycfs-[0-9a-f]{12}/.exec(readFileSync(`/proc/${container}/cgroup`, "utf8"))![0];
    c.proc.kill("SIGKILL");
    await c.proc.exited;
    const deadline = Date.now() + 5000;
    while (isRunning(container!) && Date.now() < deadline) await Bun.sleep(10);
    expect(isRunning(container!)).toBe(false);
    const ours = () => mycfsCgroups().filter((d) => d.endsWith(`/${cgroup}`));
    expect(ours()).not.toEqual([]);
    expect(readdirSync(join(store.root, "containers"))).not.toEqual([]);
    expect((await mycfs(["ps", "-a", "--root", store.root])).stdout).not.toContain("orphan");
    expect(ours()).toEqual([]);
    expect(readdirSync(join(store.root, "containers")).sort()).toEqual(kept.sort());
  });

  test("--init reaps orphaned zombies; without it PID 1 (the probe) leaves them", async () => {
    expect(await probe(store.root, ["--init"], ["orphan"])).toEqual({ zombies: 0 });
    expect(await probe(store.root, [], ["orphan"])).toEqual({ zombies: 1 });
  });

  test("--init's PID 1 keeps no fd of mycfs's nor of the caller's", async () => {
    // fd 7 is open in mycfs; PID 1 never execs, so close-on-exec alone would not close it
    const p = Bun.spawn([MYCFS, "run", "--rm", "--root", store.root, "--init", "--cap-add", "SYS_PTRACE", "busybox", "ls", "/proc/1/fd"], {
      stdio: ["ignore", "pipe", "pipe", "ignore", "ignore", "ignore", "ignore", Bun.file("/etc/hostname")],
      env: process.env,
    });
    expect(await new Response(p.stdout).text()).toBe("0\n1\n2\n");
    expect(await p.exited).toBe(0);
  });

  test("--init forwards signals to the command", async () => {
    const c = await startUntil(["run", "--root", store.root, "--init", "busybox", "sh", "-c", "trap 'exit 7' USR1; echo ready; while :; do sleep 0.05; done"]);
    c.proc.kill("SIGUSR1");
    expect(await c.proc.exited).toBe(7);
  });
});

describe("root file systems", () => {
  test("a container's writes go to its own layer: the image and the next container never see them", async () => {
    const containers = () => readdirSync(join(store.root, "containers"));
    const before = containers();
    expect((await sh("echo changed > /etc/hostname-test && rm /bin/ls && echo ok", ["--rm"])).stdout).toBe("ok\n");
    expect(existsSync(join(imageDir(store.root), "etc/hostname-test"))).toBe(false);
    // lstat: bin/ls is a link to /bin/busybox, which the host need not have
    expect(lstatSync(join(imageDir(store.root), "bin/ls")).isSymbolicLink()).toBe(true);
    expect((await sh("ls /etc/hostname-test; ls /bin/ls", ["--rm"])).stdout).toBe("/bin/ls\n");
    expect(containers()).toEqual(before); // --rm: the upper layer went with the container
  });

  test("--rootfs runs a directory in place, and --no-pivot still isolates", async () => {
    const rootfs = join(store.dir, "plain-rootfs");
    Bun.spawnSync(["cp", "-a", join(imageDir(store.root), "."), rootfs]);
    const r = await mycfs(["run", "--no-pivot", "--hostname", "np", "--rootfs", rootfs, "sh", "-c", "hostname; echo $$; ls /proc/1/root/ | head -3"]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n").slice(0, 2)).toEqual(["np", "1"]);
    expect(r.stderr).toContain("--no-pivot: chroot is weaker than pivot_root");
  });

  test("--rootfs on a shared mount (systemd makes / shared): its clone is made private, and pivot_root takes it", async () => {
    const rootfs = join(store.dir, "plain-rootfs");
    if (!existsSync(rootfs)) Bun.spawnSync(["cp", "-a", join(imageDir(store.root), "."), rootfs]);
    // this host's / is private: a mount namespace of the test's own makes its mounts shared
    // (slaves of the host's, so nothing goes back)
    const r = await mycfs(["run", "--rm", "--rootfs", rootfs, "awk", '$5 == "/"', "/proc/self/mountinfo"], {
      wrap: (argv) => ["unshare", "-m", "--propagation", "slave", "sh", "-c", 'mount --make-rshared / && exec "$@"', "sh", ...argv],
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(" / ");
    expect(r.stdout).not.toContain("shared:");
  });
});

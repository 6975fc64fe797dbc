// Debian's podman (with conmon) running containers through `--runtime mycfs`: the busybox
// image saved by mycfs and loaded into a podman store of the test's own. podman's storage,
// state and configuration are the test's (--root, --runroot, CONTAINERS_CONF); each
// podman runs in a mount namespace with an empty /var/lib (its caches) and the test's
// directory on /run (mycfs's /run/mycfs-oci: podman 4.3 passes no --root to `delete`);
// containers get no network of podman's (none, or the suite's own namespace), their
// cgroups go below mycfs-test-podman, and conmon in none (--cgroups=no-conmon).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inMountNamespace, MYCFS, mycfs, mycfsCgroups, terminal, tempDir } from "../helpers";

const dir = tempDir("podman");
const run = join(dir, "run");
const conf = join(dir, "containers.conf");

/** podman's argv, wrapped as described above. */
const podmanArgv = (args: string[]) =>
  inMountNamespace(`mount -t tmpfs none /var/lib && mount --bind ${run} /run && exec "$@"`)([
    "env",
    `CONTAINERS_CONF=${conf}`,
    "podman",
    "--root",
    join(dir, "root"),
    "--runroot",
    join(dir, "runroot"),
    "--tmpdir",
    join(dir, "tmp"),
    "--storage-driver",
    "vfs",
    "--runtime",
    MYCFS,
    ...args,
  ]);

/** Options every container gets: no network of podman's, cgroups as said above. */
const CONTAINER = ["--network", "none", "--cgroups=no-conmon", "--cgroup-parent=/mycfs-test-podman"];

async function podman(...args: string[]) {
  const p = Bun.spawn(podmanArgv(args), { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: process.env });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

beforeAll(async () => {
  for (const d of ["run", "tmp"]) mkdirSync(join(dir, d));
  // podman asks for RLIMIT_NOFILE and NPROC 1048576 as root, above the hard limits where mycfs runs
  // without CAP_SYS_RESOURCE (as in this suite's VM): containers.conf sets the ulimits
  writeFileSync(
    conf,
    `[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\n[engine]\nlock_type = "file"\nevents_logger = "none"\nimage_copy_tmp_dir = "${dir}/tmp"\n` +
      `[network]\nnetwork_backend = "cni"\nnetwork_config_dir = "${dir}/networks"\n`,
  );
  const archive = join(dir, "busybox.tar");
  const saved = await mycfs(["save", "--root", join(dir, "store"), "busybox", "-o", archive]);
  if (saved.code !== 0) throw new Error(`mycfs save: ${saved.stderr}`);
  const loaded = await podman("load", "-i", archive);
  if (loaded.code !== 0) throw new Error(`podman load: ${loaded.stderr}`);
});

afterAll(async () => {
  await podman("rm", "--all", "--force");
  rmSync(dir, { recursive: true, force: true });
});

describe("podman --runtime mycfs", () => {
  test("run --rm: the command's output and exit code, nothing left", async () => {
    const r = await podman("run", "--rm", ...CONTAINER, "busybox", "sh", "-c", "echo hello from $(hostname); exit 3");
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^hello from [0-9a-f]{12}\n$/);
    expect(r.code).toBe(3);
    expect(readdirSync(join(run, "mycfs-oci"))).toEqual([]);
    // the container's cgroup, and the parent mycfs made for podman's path
    expect(mycfsCgroups().filter((c) => c.includes("mycfs-test-podman"))).toEqual([]);
  });

  test("run -d, exec, logs, stop, rm", async () => {
    const started = await podman(
      "run",
      "-d",
      "--name",
      "web",
      ...CONTAINER,
      "busybox",
      "sh",
      "-c",
      'echo started; trap "echo bye; exit 0" TERM; while :; do sleep 0.1; done',
    );
    expect(started.stderr).toBe("");
    expect(started.code).toBe(0);
    const exec = await podman("exec", "web", "sh", "-c", "echo in $(hostname); cat /proc/1/cmdline | tr '\\0' ' '; exit 7");
    expect(exec.stdout).toMatch(/^in [0-9a-f]{12}\nsh -c echo started/);
    expect(exec.code).toBe(7);
    const missing = await podman("exec", "web", "nosuchcommand");
    expect(missing.code).toBe(127);
    const ps = await podman("ps", "--format", "{{.Names}} {{.Status}}");
    expect(ps.stdout).toMatch(/^web Up /m);
    expect((await podman("stop", "-t", "5", "web")).code).toBe(0);
    expect((await podman("logs", "web")).stdout).toBe("started\nbye\n");
    const exited = await podman("ps", "-a", "--format", "{{.Names}} {{.Status}}");
    expect(exited.stdout).toMatch(/^web Exited \(0\)/m);
    expect((await podman("rm", "web")).code).toBe(0);
    expect(readdirSync(join(run, "mycfs-oci"))).toEqual([]);
  });

  test("another container's PID, IPC and UTS namespaces (--pid container:NAME…): joined by path", async () => {
    const held = await podman("run", "-d", "--name", "holder", ...CONTAINER, "--hostname", "held", "busybox", "sleep", "60");
    expect(held.stderr).toBe("");
    const joined = ["--pid", "--ipc", "--uts"].flatMap((o) => [o, "container:holder"]);
    const r = await podman("run", "--rm", ...CONTAINER, ...joined, "busybox", "sh", "-c", "hostname; cat /proc/1/comm; echo $$");
    expect(r.stderr).toBe("");
    const [hostname, pid1, own] = r.stdout.trim().split("\n");
    expect([hostname, pid1]).toEqual(["held", "sleep"]);
    expect(Number(own)).toBeGreaterThan(1); // the holder's sleep is PID 1 there
    expect((await podman("rm", "--force", "--time", "0", "holder")).code).toBe(0);
  });

  test("kill, and a container that ends by a signal", async () => {
    expect((await podman("run", "-d", "--name", "victim", ...CONTAINER, "busybox", "sleep", "100")).code).toBe(0);
    expect((await podman("kill", "victim")).code).toBe(0);
    const wait = await podman("wait", "victim");
    expect(wait.stdout.trim()).toBe("137");
    expect((await podman("rm", "victim")).code).toBe(0);
  });

  test("--memory, --user, --read-only, a read-only volume, --cap-add and --cap-drop", async () => {
    const data = join(dir, "data");
    mkdirSync(data);
    writeFileSync(join(data, "file"), "from the host\n");
    const r = await podman(
      "run",
      "--rm",
      ...CONTAINER,
      "--memory",
      "64m",
      "--memory-reservation",
      "16m",
      "--user",
      "1000:1000",
      "--read-only",
      "--read-only-tmpfs=false",
      "-v",
      `${data}:/data:ro`,
      "busybox",
      "sh",
      "-c",
      "id -u; p=$(grep :memory: /proc/self/cgroup | cut -d: -f3); cat /sys/fs/cgroup/memory$p/memory.limit_in_bytes /sys/fs/cgroup/memory$p/memory.soft_limit_in_bytes; cat /data/file; touch /data/x /x 2>&1 | wc -l",
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("1000\n67108864\n16777216\nfrom the host\n2\n");
    const caps = await podman(
      "run",
      "--rm",
      ...CONTAINER,
      "--cap-add",
      "NET_ADMIN",
      "--cap-drop",
      "CHOWN",
      "busybox",
      "grep",
      "-E",
      "CapEff|Seccomp:",
      "/proc/self/status",
    );
    // podman's own seccomp profile, in OCI's format, compiled by mycfs
    expect(caps.stdout).toContain("Seccomp:\t2\n");
    const eff = BigInt(`0x${caps.stdout.split("\n")[0]!.split("\t")[1]}`);
    expect(eff & (1n << 12n)).toBe(1n << 12n); // CAP_NET_ADMIN
    expect(eff & 1n).toBe(0n); // CAP_CHOWN
  });

  test("--read-only with podman's tmpfs on /tmp, /var/tmp and /run (tmpcopyup: nothing to copy in busybox)", async () => {
    const r = await podman(
      "run",
      "--rm",
      ...CONTAINER,
      "--read-only",
      "busybox",
      "sh",
      "-c",
      "touch /tmp/a /var/tmp/b /run/c && echo writable; touch /x 2>&1 | wc -l",
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("writable\n1\n");
    expect(readdirSync(join(run, "mycfs-oci"))).toEqual([]);
  });

  test("--privileged, --device, the host's namespaces, --tmpfs, -w, -e, --hostname", async () => {
    const privileged = await podman("run", "--rm", ...CONTAINER, "--privileged", "busybox", "sh", "-c", "grep CapEff /proc/self/status; ls -l /dev/ptmx");
    expect(privileged.stderr).toBe("");
    expect(privileged.stdout).toMatch(/^CapEff:\t0000[0-9a-f]{12}\n.*\/dev\/ptmx -> pts\/ptmx\n$/s);
    const device = await podman("run", "--rm", ...CONTAINER, "--device", "/dev/fuse", "busybox", "stat", "-c", "%t:%T", "/dev/fuse");
    expect(device.stdout).toBe("a:e5\n"); // 10:229
    const host = await podman(
      "run",
      "--rm",
      "--network",
      "host",
      "--pid",
      "host",
      "--ipc",
      "host",
      "--uts",
      "host",
      "--cgroups=no-conmon",
      "--cgroup-parent=/mycfs-test-podman",
      "busybox",
      "sh",
      "-c",
      "hostname; echo $$",
    );
    const [hostname, pid] = host.stdout.trim().split("\n");
    expect(hostname).toBe(readFileSync("/proc/sys/kernel/hostname", "utf8").trim());
    expect(Number(pid)).toBeGreaterThan(1); // the host's PID namespace
    const misc = await podman(
      "run",
      "--rm",
      ...CONTAINER,
      "--tmpfs",
      "/scratch:size=1m",
      "-w",
      "/scratch",
      "-e",
      "FOO=bar",
      "--hostname",
      "hb",
      "busybox",
      "sh",
      "-c",
      "pwd; echo $FOO; hostname; grep -c ' /scratch tmpfs' /proc/mounts",
    );
    expect(misc.stdout).toBe("/scratch\nbar\nhb\n1\n");
  });

  /** A shell at a terminal of its own (script), through podman `args`: its tty, a sum, and `exit code`. */
  async function shellAt(args: string[], code: number) {
    const t = terminal(
      podmanArgv(args)
        .map((a) => `'${a.replaceAll("'", "'\\''")}'`)
        .join(" "),
    );
    t.type("tty; echo $((6 * 7))\n");
    await t.waitFor("/dev/pts/");
    await t.waitFor("42");
    t.type(`exit ${code}\n`);
    return t.close();
  }

  test("-it: a terminal through conmon's console socket", async () => {
    expect(await shellAt(["run", "-it", "--rm", ...CONTAINER, "busybox", "sh"], 5)).toBe(5);
    expect(existsSync(join(run, "mycfs-oci")) ? readdirSync(join(run, "mycfs-oci")) : []).toEqual([]);
  });

  test("exec -it: the exec'd shell's terminal through the console socket", async () => {
    expect((await podman("run", "-d", "--name", "tty", ...CONTAINER, "busybox", "sleep", "100")).code).toBe(0);
    expect(await shellAt(["exec", "-it", "tty", "sh"], 4)).toBe(4);
    expect((await podman("rm", "-f", "-t", "0", "tty")).code).toBe(0);
  });
});

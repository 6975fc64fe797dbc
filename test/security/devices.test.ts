// Device nodes, attacked from inside real containers. A container may make any node
// (CAP_MKNOD, as docker's) but use only docker's harmless few: the host's kernel log,
// memory, disks and hardware RNG stay out of reach. Each case runs on this host's own
// cgroups (hybrid: v1's devices controller) and on a simulated pure cgroup v2 host (the
// BPF program), the layout most hosts have.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, closeSync, existsSync, openSync, readdirSync, readFileSync } from "node:fs";
import { DEFAULT_DEVICE_RULES, ruleText } from "../../src/cgroups/devices";
import { MYCFS, mycfs, mycfsCgroups, onPureV2, terminal, testStore } from "../helpers";

const store = testStore("devices");
chmodSync(store.dir, 0o711); // a --userns container's root must reach the store
const env = { MYCFS_ROOT: store.root };
/** Detached containers, each with the layout it runs on, for afterAll to remove should a test fail. */
const detached: [string, typeof onPureV2 | undefined][] = [];
afterAll(async () => {
  for (const [id, wrap] of detached) await mycfs(["rm", "-f", id], { env, wrap });
  store.cleanup();
});

const EPERM = "Operation not permitted";
const ENXIO = "No such device or address"; // what the mem driver says of a minor it lacks: the cgroup let it through

const kernelLog = () => Bun.spawnSync(["dmesg"]).stdout.toString();
const marker = () => `mycfs-devices-test-${Math.random().toString(36).slice(2)}`;

/** A block device with the host's data: the root disk's, or where the host refuses even
 * its own root that (a sandboxed VM here), the first one the host itself can open. */
function hostDisk(): { major: number; minor: number } {
  const root = /^\S+ \S+ (\d+:\d+) \/ \/ /m.exec(readFileSync("/proc/self/mountinfo", "utf8"))?.[1];
  const all = readdirSync("/sys/dev/block");
  for (const dev of [root, ...all]) {
    if (!dev || !all.includes(dev)) continue;
    try {
      closeSync(openSync(`/dev/${/^DEVNAME=(.*)$/m.exec(readFileSync(`/sys/dev/block/${dev}/uevent`, "utf8"))![1]}`, "r"));
    } catch {
      continue;
    }
    const [major, minor] = dev.split(":").map(Number) as [number, number];
    return { major, minor };
  }
  throw new Error("this host has no block device it can open itself");
}
const disk = hostDisk();

/** sh -c quoting, for a command line typed at a terminal. */
const quote = (argv: string[]) => argv.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");

const LAYOUTS = {
  "this host's cgroups (hybrid: v1's devices controller)": undefined,
  "a pure cgroup v2 host (a BPF program on the container's cgroup)": onPureV2,
};

for (const [layout, wrap] of Object.entries(LAYOUTS))
  describe(layout, () => {
    const run = (args: string[], script: string) => mycfs(["run", "--rm", ...args, "busybox", "sh", "-c", script], { env, wrap });
    const errors = (stderr: string) => stderr.split("\n").filter((l) => l && !l.startsWith("mycfs: warning"));

    test("making the kernel log's node works, writing to it does not: the host's log gets no line", async () => {
      const mark = marker();
      const r = await run([], `mknod /dev/kmsg2 c 1 11 && echo made; echo ${mark} > /dev/kmsg2 && echo wrote`);
      expect(r.stdout).toBe("made\n");
      expect(errors(r.stderr)).toEqual([`sh: can't create /dev/kmsg2: ${EPERM}`]);
      expect(kernelLog()).not.toContain(mark);
    });

    test("the host's memory, a disk and the hardware RNG cannot be read", async () => {
      const r = await run(
        [],
        `mknod /dev/mem c 1 1; mknod /dev/disk b ${disk.major} ${disk.minor}; mknod /dev/hwrng c 10 183
      for d in mem disk hwrng; do head -c 1 /dev/$d > /dev/null; done`,
      );
      expect(errors(r.stderr)).toEqual(["mem", "disk", "hwrng"].map((d) => `head: /dev/${d}: ${EPERM}`));
    });

    test("the default devices still work, and so does a terminal", async () => {
      const r = await run(
        [],
        `echo x > /dev/null && for d in zero urandom random; do head -c 3 /dev/$d; done | wc -c
      echo x 2>&1 > /dev/full | grep -c 'No space left'; exec 3<> /dev/ptmx && echo ptmx`,
      );
      expect([r.stdout, errors(r.stderr)]).toEqual(["9\n1\nptmx\n", []]);
      const argv = [MYCFS, "run", "--rm", "-t", "busybox", "sh", "-c", "tty; echo hi > /dev/tty && echo tty-ok"];
      const t = terminal(`MYCFS_ROOT=${store.root} ${quote(wrap ? wrap(argv) : argv)}`);
      await t.waitFor("tty-ok");
      expect(t.output()).toContain("/dev/pts/0");
      expect(await t.close()).toBe(0);
    });

    test("--device gives the host's node, usable as its permissions say, and nothing more", async () => {
      const mark = marker();
      const r = await run(
        ["--device", "/dev/kmsg:/dev/log2:w"],
        `ls -l /dev/log2; echo ${mark} > /dev/log2 && echo wrote; mknod /dev/mem c 1 1; head -c 1 /dev/mem`,
      );
      expect(r.stdout).toMatch(/^c[rw-]{9} .* 1, +11 .* \/dev\/log2\nwrote\n$/);
      expect(errors(r.stderr)).toEqual([`head: /dev/mem: ${EPERM}`]);
      expect(kernelLog()).toContain(mark);
    });

    test("--device-cgroup-rule allows exactly what it names", async () => {
      const mark = marker();
      const r = await run(
        ["--device-cgroup-rule", "c 1:11 w", "--device-cgroup-rule", "c 1:250 r"],
        `mknod /dev/kmsg2 c 1 11; echo ${mark} > /dev/kmsg2 && echo wrote
      mknod /dev/none c 1 250; head -c 1 /dev/none; echo x > /dev/none; mknod /dev/other c 1 251; head -c 1 /dev/other`,
      );
      expect(r.stdout).toBe("wrote\n");
      expect(errors(r.stderr)).toEqual([`head: /dev/none: ${ENXIO}`, `sh: can't create /dev/none: ${EPERM}`, `head: /dev/other: ${EPERM}`]);
      expect(kernelLog()).toContain(mark);
    });

    test("--privileged allows every device", async () => {
      const r = await run(
        ["--privileged"],
        `mknod /dev/disk b ${disk.major} ${disk.minor}; head -c 1 /dev/disk > /dev/null && echo disk
      mknod /dev/none c 1 250; head -c 1 /dev/none`,
      );
      expect([r.stdout, errors(r.stderr)]).toEqual(["disk\n", [`head: /dev/none: ${ENXIO}`]]);
    });

    test("in a user namespace --device binds the host's node (mknod is refused there)", async () => {
      const r = await run(["--userns", "auto", "--device", "/dev/kmsg:/dev/log2"], "ls -l /dev/log2; grep -c ' /dev/log2 ' /proc/self/mountinfo");
      expect(r.stdout).toMatch(/^c[rw-]{9} .* 1, +11 .* \/dev\/log2\n1\n$/);
    });

    test("exec'd processes get the same rules; the cgroup, its rules and program are gone with the container", async () => {
      const m = (args: string[]) => mycfs(args, { env, wrap });
      const id = (await m(["run", "-d", "busybox", "sleep", "60"])).stdout.trim();
      detached.push([id, wrap]);
      const name = `mycfs-${id.slice(0, 12)}`;
      const ex = await m(["exec", id, "sh", "-c", "mknod /dev/kmsg2 c 1 11; echo x > /dev/kmsg2"]);
      expect(errors(ex.stderr)).toEqual([`sh: can't create /dev/kmsg2: ${EPERM}`]);
      let program: number | undefined;
      if (wrap) {
        // added to any program of the host's above (BPF_F_ALLOW_MULTI), not instead of them
        const attached = JSON.parse(Bun.spawnSync(wrap(["bpftool", "-j", "cgroup", "show", `/sys/fs/cgroup/${name}`])).stdout.toString());
        expect(attached.map((p: Record<string, string>) => [p.attach_type, p.attach_flags, p.name])).toEqual([["cgroup_device", "multi", "mycfs_devices"]]);
        program = attached[0].id;
      } else {
        expect(readFileSync(`/sys/fs/cgroup/devices/${name}/devices.list`, "utf8").trim().split("\n")).toEqual(DEFAULT_DEVICE_RULES.map(ruleText));
      }
      expect((await m(["rm", "-f", id])).code).toBe(0);
      expect(mycfsCgroups().filter((d) => d.endsWith(`/${name}`))).toEqual([]);
      // the kernel frees a removed cgroup's programs a moment later
      for (let i = 0; program !== undefined && i < 100 && Bun.spawnSync(["bpftool", "prog", "show", "id", String(program)]).exitCode === 0; i++)
        await Bun.sleep(50);
      if (program !== undefined) expect(Bun.spawnSync(["bpftool", "prog", "show", "id", String(program)]).exitCode).not.toBe(0);
      expect(readFileSync("/proc/mounts", "utf8")).not.toContain(store.dir);
    });
  });

test("a bad --device or --device-cgroup-rule: one line, exit 125, nothing made", async () => {
  const env = { MYCFS_ROOT: `${store.dir}/unused` };
  for (const [args, message] of [
    [["--device", "/dev/nonexistent"], "mycfs: --device /dev/nonexistent: host path /dev/nonexistent does not exist\n"],
    [["--device", "/tmp"], "mycfs: --device /tmp: /tmp is not a device node; give a character or block device, e.g. /dev/kmsg\n"],
    [["--device", "/dev/kmsg:/dev/k:rwx"], "mycfs: --device /dev/kmsg:/dev/k:rwx: permissions 'rwx' are not letters of rwm\n"],
    [
      ["--device-cgroup-rule", "c 1:11"],
      "mycfs: --device-cgroup-rule 'c 1:11': not a rule; write TYPE MAJOR:MINOR PERMS, e.g. 'c 1:11 w' (TYPE c or b, * for any number, PERMS of rwm), or 'a' for every device\n",
    ],
  ] as const) {
    const r = await mycfs(["run", "--rm", ...args, "busybox", "true"], { env });
    expect([r.code, r.stderr]).toEqual([125, message]);
  }
  expect(existsSync(env.MYCFS_ROOT)).toBe(false); // not even a store
});

// mycfs in a minimal VM: Debian's 6.1 kernel, pure cgroup v2 with every controller, the
// initramfs as the host's root (test/vm/image.ts builds it, test/vm/checks.sh runs in it).
// One boot runs every check; each check is one test. Alone: `bun test test/vm`.
// vm.test.ts boots x64 (dist/mycfs); vm-arm64.test.ts arm64 (the release's mycfs-linux-arm64).
import { beforeAll, describe, expect, test } from "bun:test";
import { debianKernel, initramfs, type VmArch } from "./image";
import { boot, type Boot } from "./qemu";

/** The checks of checks.sh, in its order, and what each proves. */
const CHECKS: Record<string, string> = {
  run_embedded: "run with the embedded image works on an initramfs root, with one notice",
  start_time: "a second start (the image in the store)",
  pivoted_overlay: "the root is the overlay, pivoted: the initramfs is neither listed nor reachable",
  chroot_escape: "the classic chroot escape from inside stays in the container",
  rootfs_dir: "--rootfs runs a directory in place",
  layered_image: "an imported image of two layers: its whiteout and opaque directory, as root and in a user namespace",
  limits: "--memory, --memory-swap, --cpus, --cpu-shares, --cpuset-cpus, --pids-limit, --ulimit read back inside",
  blkio_weight: "--blkio-weight: the io weight read back, or the error naming the missing file",
  oom: "out of memory: exit 137 and the OOM report",
  pids: "--pids-limit stops forks (pids.events counts them)",
  detached: "run -d, ps, stop, wait, ps -a, rm",
  exec_into: "exec joins the container's cgroup, namespaces and PID namespace",
  exec_cve_2024_21626: "exec through a working directory in /proc/self/fd is refused (runc CVE-2024-21626)",
  devices: "docker's device allow-list: a node can be made, 1:11 not written, /dev/zero read",
  oci_device_hole: "an OCI bundle's device rules: allow c *:* rwm, then deny c 1:3 w; the BPF program refuses only that",
  exec_enter_program: "exec into a container with CAP_SYS_PTRACE, through the enter program run from a sealed memfd",
  nothing_left: "nothing left behind: mounts, cgroups, layers, records, processes",
};

/** The whole VM test for one architecture: one boot, every check. */
export function vmSuite(arch: VmArch) {
  let vm: Boot;
  let kernelVersion = "";

  beforeAll(async () => {
    const kernel = await debianKernel(arch);
    kernelVersion = kernel.version;
    const t0 = performance.now();
    const initrd = await initramfs(kernel, arch);
    const built = (performance.now() - t0) / 1000;
    vm = await boot({
      arch,
      kernel: kernel.vmlinuz,
      initrd,
      // TCG: an arm64 guest on this x86_64 host takes about 80 s
      timeoutMs: arch === "x64" ? 100_000 : 300_000,
      append: `rdinit=/init -- run --rm -m 32m busybox sh -c "cat /sys/fs/cgroup/memory.max; exit 7"`,
    });
    const at = (key: string) => vm.lines.find((l) => l.startsWith(`${key} `))?.split(" ")[1];
    console.log(
      `vm ${arch}: kernel ${kernel.version}, initramfs ready in ${built.toFixed(1)} s; booted to /init in ${at("BOOTED")} s of guest time; ` +
        `first mycfs run ${at("FIRST-RUN")} s, a start ${at("START")} s (TCG); whole boot ${vm.wall.toFixed(1)} s of wall time`,
    );
  }, 400_000);

  describe(`a minimal ${arch} VM (Debian's kernel, cgroup v2 only, root on initramfs)`, () => {
    test("boots, runs every check, powers off", () => {
      expect(vm.lines.some((l) => l.startsWith("BOOTED "))).toBe(true);
      expect(vm.lines).toContain("CHECKS DONE");
      expect(vm.poweredOff).toBe(true);
      expect(vm.lines.filter((l) => l.includes("Kernel panic"))).toEqual([]);
      expect(kernelVersion).toMatch(/^6\.1\./);
    });

    test("mycfs as PID 1 mounts the kernel's file systems, runs its command line (the kernel's, after --), powers off with its status", () => {
      const after = vm.lines.slice(vm.lines.indexOf("CHECKS DONE"));
      expect(after).toContain("33554432");
      expect(after.some((l) => /^mycfs: mycfs run --rm -m 32m busybox sh -c .* exited with status 7; powering off$/.test(l))).toBe(true);
    });

    for (const [name, what] of Object.entries(CHECKS))
      test(`${name}: ${what}`, () => {
        const line = vm.lines.find((l) => l.startsWith(`CHECK ${name} `));
        expect(line).toBe(`CHECK ${name} ok`);
      });
  });
}

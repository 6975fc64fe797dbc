// mycfs as the init of a minimal VM: started by the kernel as PID 1 (rdinit=/bin/mycfs from
// an initramfs, or init= on a disk), its command line the kernel's arguments after `--`
// (none: `run`, a shell in the embedded image on the console). It makes the machine a
// container host, runs that command line as its child, passes signals on, reaps every
// orphan, and powers the machine off once the command has ended, saying with what status.
import { log } from "../log";
import { fileType, mkdir, mountFs, powerOff, readFile, readLink, supervise, tryMkdir, writeFile } from "../native/lib";
import { MS } from "../plan/ops";
import { exitCode } from "../container/run";
import { E } from "../errno";

/** The kernel's own first PID namespace (PROC_PID_INIT_INO): PID 1 there is the machine's. */
const INIT_PID_NS = "pid:[4026531836]";

/** PID 1 of the machine, not of a container: no /proc yet, or the first PID namespace. */
export function isMachineInit(): boolean {
  if (process.pid !== 1) return false;
  const ns = readLink("/proc/self/ns/pid");
  return ns === null || ns === INIT_PID_NS;
}

const KERNEL_FS: [source: string, target: string, flags: number][] = [
  ["proc", "/proc", MS.NOSUID | MS.NODEV | MS.NOEXEC],
  ["sysfs", "/sys", MS.NOSUID | MS.NODEV | MS.NOEXEC],
  ["devtmpfs", "/dev", MS.NOSUID],
  ["cgroup2", "/sys/fs/cgroup", MS.NOSUID | MS.NODEV | MS.NOEXEC],
];

/** What a container host needs and the kernel does not mount itself; what is already
 * mounted (by an earlier init, or the kernel's devtmpfs) is left as it is. */
function mountKernelFs() {
  for (const [fstype, target, flags] of KERNEL_FS) {
    const mounted = fileType("/proc/self") !== null && (readFile("/proc/self/mountinfo") ?? "").split("\n").some((l) => l.split(" ")[4] === target);
    if (mounted) continue;
    mkdir(target, 0o755, true);
    mountFs(fstype, target, fstype, flags);
  }
  // every controller for the containers' cgroups, below the root (which holds only init)
  const controllers = (readFile("/sys/fs/cgroup/cgroup.controllers") ?? "").split(/\s+/).filter(Boolean);
  for (const c of controllers) {
    try {
      writeFile("/sys/fs/cgroup/cgroup.subtree_control", `+${c}`);
    } catch (e) {
      log.warn(`the ${c} cgroup controller could not be enabled: ${(e as Error).message}`);
    }
  }
}

/** On a read-only root, the store and the containers' records go to a tmpfs on /run. */
function writableStore(): Record<string, string> {
  if (tryMkdir("/var/lib/mycfs") !== E.EROFS && tryMkdir("/run/mycfs") !== E.EROFS) return {};
  mountFs("tmpfs", "/run", "tmpfs", MS.NOSUID | MS.NODEV, "mode=755");
  log.info("the root file system is read-only: the store is a tmpfs, /run/mycfs-store");
  return { MYCFS_ROOT: "/run/mycfs-store" };
}

export async function machineInit(argv: string[]): Promise<never> {
  let code: number;
  try {
    mountKernelFs();
    const env = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ...process.env, ...writableStore() };
    // (the executable by /proc, which Bun could not read when it started without one)
    const status = supervise(
      ["/proc/self/exe", ...(argv.length ? argv : ["run"])],
      Object.entries(env).map(([k, v]) => `${k}=${v}`),
    );
    code = exitCode(status);
    log.info(`mycfs ${argv.join(" ")} exited with status ${code}; powering off`);
  } catch (e) {
    code = 125;
    log.error(`as the machine's init: ${(e as Error).message}; powering off`);
  }
  const err = powerOff();
  log.error(`could not power off (errno ${-err})`);
  process.exit(code); // the kernel panics: what it prints ends with this code
}

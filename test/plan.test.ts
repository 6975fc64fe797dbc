// The plan is data: its order and contents are tested without root, and its encoding is
// checked by decoding it with the C side itself (through bun:ffi).
import { describe, expect, test } from "bun:test";
import { buildPlan, type ContainerConfig } from "../src/container/plan";
import { decodePlan } from "../src/native/lib";
import { OpCode, OpFlag, Sync } from "../src/native/protocol";
import { encodePlan } from "../src/plan/encode";
import { MS, mount, type Op } from "../src/plan/ops";
import { parseTmpfs } from "../src/container/options";

const config = (over: Partial<ContainerConfig> = {}): ContainerConfig => ({
  rootfs: { path: "/store/c/rootfs", ops: [mount({ source: "overlay", target: "/store/c/rootfs", fstype: "overlay", what: "overlay" })] },
  argv: ["/bin/echo", "héllo", ""],
  env: ["PATH=/bin:/usr/bin", "HOME=/root"],
  hostname: "box",
  workdir: "/",
  volumes: [],
  tmpfs: [],
  pivot: true,
  init: false,
  readOnly: false,
  ...over,
});
const io = { fds: [-1, -1, -1] as [number, number, number], ctty: false };
const codes = (plan: Op[]) => plan.map((o) => o.code);
const targets = (plan: Op[]) => plan.filter((o) => o.code === OpCode.MOUNT).map((o) => o.strs[1]);

describe("buildPlan", () => {
  const plan = buildPlan(config(), io);

  test("starts at a sync point, makes mounts private, then mounts the root", () => {
    expect(codes(plan).slice(0, 4)).toEqual([OpCode.SYNC, OpCode.MOUNT, OpCode.MOUNT, OpCode.ROOT]);
    expect(plan[0]!.a).toBe(Sync.NAMESPACES);
    expect(plan[1]!.strs[1]).toBe("/");
    expect(plan[1]!.a).toBe(MS.REC | MS.PRIVATE);
  });

  test("mounts happen below the root, before it is switched; exec is last", () => {
    const pivot = codes(plan).indexOf(OpCode.PIVOT_ROOT);
    const lastInRoot = plan.findLastIndex((o) => o.flags & OpFlag.IN_ROOT);
    expect(lastInRoot).toBeLessThan(pivot);
    expect(codes(plan).slice(-2)).toEqual([OpCode.STDIO, OpCode.EXEC]);
    expect(targets(plan)).toEqual(["/", "/store/c/rootfs", "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/tmp"]);
  });

  test("exec carries the container's PATH, argv and env, and a new session", () => {
    const exec = plan.at(-1)!;
    expect(exec.strs).toEqual(["/bin:/usr/bin", "/bin/echo", "héllo", "", "PATH=/bin:/usr/bin", "HOME=/root"]);
    expect([exec.a, exec.b]).toEqual([3, 2]);
    expect(exec.flags).toBe(OpFlag.SETSID);
    expect(buildPlan(config({ init: true }), { fds: [5, 5, 5], ctty: true }).at(-1)!.flags).toBe(OpFlag.SETSID | OpFlag.INIT | OpFlag.CTTY);
  });

  test("--no-pivot chroots instead; -w creates and enters the directory", () => {
    const p = buildPlan(config({ pivot: false, workdir: "/work/dir" }), io);
    expect(codes(p)).not.toContain(OpCode.PIVOT_ROOT);
    const chroot = codes(p).indexOf(OpCode.CHROOT);
    expect(p[chroot - 1]!).toMatchObject({ code: OpCode.MKDIR, strs: ["/work/dir"] });
    expect(p[chroot + 1]!).toMatchObject({ code: OpCode.CHDIR, strs: ["/work/dir"] });
  });

  test("volumes bind, then remount read-only; a user tmpfs on /tmp replaces the default", () => {
    const p = buildPlan(config({
      volumes: [{ host: "/srv/data", container: "/data", readOnly: true, isDir: true },
        { host: "/etc/hosts", container: "/etc/hosts", readOnly: false, isDir: false }],
      tmpfs: [parseTmpfs("/tmp:size=1m")],
    }), io);
    const mounts = p.filter((o) => o.code === OpCode.MOUNT);
    const data = mounts.filter((o) => o.strs[1] === "/data");
    expect(data.map((o) => o.a)).toEqual([MS.BIND | MS.REC, MS.BIND | MS.REMOUNT | MS.RDONLY]);
    expect(data[0]!.flags).toBe(OpFlag.IN_ROOT | OpFlag.MKDIR);
    expect(mounts.find((o) => o.strs[1] === "/etc/hosts")!.flags).toBe(OpFlag.IN_ROOT | OpFlag.MKFILE);
    const tmp = mounts.filter((o) => o.strs[1] === "/tmp");
    expect(tmp).toHaveLength(1);
    expect(tmp[0]!.strs[3]).toBe("size=1m");
  });
});

describe("encodePlan, decoded by libmycfs", () => {
  test("every number and string arrives as built", () => {
    const plan = buildPlan(config({ init: true }), { fds: [-1, 7, 8], ctty: false });
    const decoded = decodePlan(encodePlan(plan));
    expect(decoded).toEqual(plan.map(({ code, flags, a, b, c, strs }) => ({ code, flags, a, b, c, strs })));
  });

  test("the C side refuses a truncated or foreign plan", () => {
    const bytes = encodePlan(buildPlan(config(), io));
    expect(() => decodePlan(bytes.subarray(0, bytes.byteLength - 8))).toThrow("malformed");
    const foreign = bytes.slice();
    foreign[0] ^= 0xff;
    expect(() => decodePlan(foreign)).toThrow("malformed");
  });

  test("a NUL inside a string is refused before it reaches C", () => {
    expect(() => encodePlan(buildPlan(config({ argv: ["a\0b"] }), io))).toThrow("NUL");
  });
});

// Device rules as data, without root: docker's syntax parsed and refused, the cgroup v1
// writes, --device, and the cgroup v2 program, run by a small eBPF interpreter on every
// kind of access and compared with what the rules say (read here straight from them).
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { compileDeviceFilter } from "../src/cgroups/device-filter";
import { ALL_DEVICES, DEFAULT_DEVICE_RULES, type DeviceRule, deviceWrites, parseDeviceRule, ruleText, v1Conflict } from "../src/cgroups/devices";
import { deviceNodes, parseDevice, resolveDevices } from "../src/container/devices";
import { OpCode } from "../src/native/protocol";
import { makedev, wire } from "../src/plan/encode";

// Docker's default list (moby's oci/defaults.go), written out here, not taken from the code.
const DOCKER_DEFAULTS = [
  "c *:* m",
  "b *:* m",
  "c 1:3 rwm",
  "c 1:5 rwm",
  "c 1:7 rwm",
  "c 1:8 rwm",
  "c 1:9 rwm",
  "c 5:0 rwm",
  "c 5:1 rwm",
  "c 5:2 rwm",
  "c 136:* rwm",
  "c 10:200 rwm",
];

describe("--device-cgroup-rule", () => {
  test("docker's syntax: type, numbers or *, permissions in any order", () => {
    expect(parseDeviceRule("c 1:11 rwm")).toEqual({ type: "c", major: 1, minor: 11, access: "rwm" });
    expect(parseDeviceRule("b *:* r")).toEqual({ type: "b", major: -1, minor: -1, access: "r" });
    expect(parseDeviceRule("c 136:* mw")).toEqual({ type: "c", major: 136, minor: -1, access: "wm" });
    expect(parseDeviceRule("c 4095:1048575 w")).toEqual({ type: "c", major: 4095, minor: 1048575, access: "w" });
    expect(parseDeviceRule("a")).toBe(ALL_DEVICES);
    expect(parseDeviceRule("a *:* rwm")).toBe(ALL_DEVICES);
    for (const text of DOCKER_DEFAULTS) expect(ruleText(parseDeviceRule(text))).toBe(text);
  });

  test("anything else is refused, naming the rule and the syntax", () => {
    for (const [text, why] of [
      ["x 1:2 r", "not a rule"],
      ["c 1:2", "not a rule"],
      ["c 1 r", "not a rule"],
      ["", "not a rule"],
      ["a 1:3 r", "type a allows every device"],
      ["c 4096:1 r", "major '4096' is not * or a number up to 4095"],
      ["c 1:1048576 r", "minor '1048576' is not"],
      ["c -1:1 r", "major '-1'"],
      ["c 1:x r", "minor 'x'"],
      ["c 1:2 rx", "permissions 'rx' are not letters of rwm"],
      ["c 1:2 rr", "permissions 'rr'"],
    ])
      expect(() => parseDeviceRule(text!)).toThrow(`--device-cgroup-rule '${text}': ${why}`);
    expect(() => parseDeviceRule("q")).toThrow("write TYPE MAJOR:MINOR PERMS, e.g. 'c 1:11 w'");
  });
});

describe("cgroup v1 writes", () => {
  test("deny everything, then allow docker's list, one rule a write", () => {
    expect(deviceWrites(DEFAULT_DEVICE_RULES)).toEqual([
      { file: "devices.deny", value: "a" },
      ...DOCKER_DEFAULTS.map((value) => ({ file: "devices.allow", value })),
    ]);
  });

  test("allowing all is one write", () => {
    expect(deviceWrites([ALL_DEVICES])).toEqual([{ file: "devices.allow", value: "a" }]);
    expect(deviceWrites([...DEFAULT_DEVICE_RULES, ALL_DEVICES])).toEqual([{ file: "devices.allow", value: "a" }]);
  });

  test("deny rules in order, after the default they start from; what v1 cannot honour", () => {
    const deny = (text: string): DeviceRule => ({ ...parseDeviceRule(text), deny: true });
    const kmsg = [...DEFAULT_DEVICE_RULES, parseDeviceRule("c 1:11 rwm"), deny("c 1:11 w"), deny("c 1:3 w")];
    expect(deviceWrites(kmsg).slice(-3)).toEqual([
      { file: "devices.allow", value: "c 1:11 rwm" },
      { file: "devices.deny", value: "c 1:11 w" },
      { file: "devices.deny", value: "c 1:3 w" },
    ]);
    expect(v1Conflict(kmsg)).toBeUndefined();
    const open = [...DEFAULT_DEVICE_RULES, ALL_DEVICES, deny("c 1:3 w"), parseDeviceRule("c 1:3 w")];
    expect(deviceWrites(open)).toEqual([
      { file: "devices.allow", value: "a" },
      { file: "devices.deny", value: "c 1:3 w" },
      { file: "devices.allow", value: "c 1:3 w" },
    ]);
    expect(v1Conflict(open)).toBeUndefined();
    // a hole in a wildcard, either way: the kernel would ignore it
    const hole = [parseDeviceRule("c *:* rwm"), deny("c 1:3 w")];
    expect(v1Conflict(hole)).toEqual({ rule: hole[1]!, over: hole[0]! });
    expect(v1Conflict([...DEFAULT_DEVICE_RULES, deny("c 1:* w")])?.over).toEqual(parseDeviceRule("c 1:3 rwm"));
    expect(v1Conflict([ALL_DEVICES, deny("b 8:* r"), parseDeviceRule("b 8:0 r")])?.rule).toEqual(parseDeviceRule("b 8:0 r"));
    expect(v1Conflict([...DEFAULT_DEVICE_RULES, deny("c *:* w")])?.over).toEqual(parseDeviceRule("c 1:3 rwm"));
    // where the accesses do not meet, nothing is ignored
    expect(v1Conflict([parseDeviceRule("c *:* m"), deny("c 1:3 w")])).toBeUndefined();
  });

  test("build.ts's copy of the default writes and program is the code's", () => {
    const prebuilt = JSON.parse(readFileSync("build/device-rules-default.json", "utf8"));
    expect(prebuilt.writes).toEqual(deviceWrites(DEFAULT_DEVICE_RULES));
    expect(Uint8Array.fromBase64(prebuilt.bpf).toHex()).toBe(compileDeviceFilter(DEFAULT_DEVICE_RULES).toHex());
  });
});

describe("--device", () => {
  const S_IFCHR = 0o020000;

  test("a host node: its numbers and mode, the same path by default, rwm by default", () => {
    expect(parseDevice("/dev/null")).toEqual({
      device: { host: "/dev/null", container: "/dev/null", mode: S_IFCHR | 0o666, major: 1, minor: 3 },
      rule: { type: "c", major: 1, minor: 3, access: "rwm" },
    });
    expect(parseDevice("/dev/null:/dev/n2").device.container).toBe("/dev/n2");
    expect(parseDevice("/dev/null:/dev/n2:wr").rule.access).toBe("rw");
    const permsOnly = parseDevice("/dev/null:r");
    expect([permsOnly.device.container, permsOnly.rule.access]).toEqual(["/dev/null", "r"]);
  });

  test("anything but a device node, or a bad path or permission, is refused", () => {
    for (const [spec, why] of [
      ["/no/such/node", "host path /no/such/node does not exist"],
      ["/dev", "/dev is not a device node; give a character or block device"],
      ["/dev/null:dev/n", "container path 'dev/n' must be an absolute path"],
      ["/dev/null:/", "the container path cannot be /"],
      ["/dev/null:/dev/n:rwx", "permissions 'rwx' are not letters of rwm"],
      ["/dev/null:/a:r:w", "expected HOST[:CONTAINER][:PERMS]"],
      ["/dev/null::r", "expected HOST[:CONTAINER][:PERMS]"],
    ])
      expect(() => parseDevice(spec!)).toThrow(`--device ${spec}: ${why}`);
  });

  test("rules: docker's list, then --device's, then --device-cgroup-rule's; --privileged all", () => {
    expect(resolveDevices({ devices: [], rules: [], privileged: false }).rules).toBe(DEFAULT_DEVICE_RULES);
    const r = resolveDevices({ devices: ["/dev/null:/dev/n2:r"], rules: ["c 1:11 w"], privileged: false });
    expect(r.rules.map(ruleText)).toEqual([...DOCKER_DEFAULTS, "c 1:3 r", "c 1:11 w"]);
    expect(r.nodes.map((d) => d.container)).toEqual(["/dev/n2"]);
    const all = resolveDevices({ devices: ["/dev/null:/dev/n2"], rules: ["c 1:11 w"], privileged: true });
    expect([all.rules, all.nodes.length]).toEqual([[ALL_DEVICES], 1]);
    expect(() => resolveDevices({ devices: [], rules: ["c 1"], privileged: true })).toThrow("--device-cgroup-rule 'c 1'");
  });

  test("nodes: made with the kernel's dev_t, or bound from the host in a user namespace; a given one replaces a default", () => {
    const disk = { host: "/dev/vdb", container: "/dev/xvdb", mode: 0o060660, major: 259, minor: 0x12345 };
    const made = deviceNodes([disk], false);
    expect(made.map((o) => [o.kind, o.kind === "mknod" && o.path])).toEqual([
      ...["null", "zero", "full", "random", "urandom", "tty"].map((n) => ["mknod", `/dev/${n}`]),
      ["mknod", "/dev/xvdb"],
    ]);
    expect(wire(made.at(-1)!)).toMatchObject({ code: OpCode.MKNOD, a: 0o060660, b: 0x12310345 }); // glibc's makedev(259, 0x12345)
    const bound = deviceNodes([disk], true);
    expect(bound.every((o) => o.kind === "mount")).toBe(true);
    expect(bound.at(-1)).toMatchObject({ kind: "mount", source: "/dev/vdb", target: "/dev/xvdb" });
    const replaced = deviceNodes([{ ...disk, container: "/dev/null" }], false).filter((o) => o.kind === "mknod" && o.path === "/dev/null");
    expect(replaced.map((o) => wire(o).b)).toEqual([makedev(259, 0x12345)]);
    expect(makedev(1, 3)).toBe(0x103);
  });
});

// ---- an eBPF machine, for what a BPF_PROG_TYPE_CGROUP_DEVICE program of ours uses

const TYPE = { b: 1, c: 2 } as const;
const ACCESS = { m: 1, r: 2, w: 4 } as const;
const U32 = 0xffffffffn;

/** Runs the program on one bpf_cgroup_dev_ctx, as the kernel's verifier would have it:
 * registers read only once written, the context read only as u32 fields, every jump
 * forward and inside the program, the end reached only through EXIT. */
function run(prog: Uint8Array, ctx: { type: number; access: number; major: number; minor: number }): { ret: number; steps: number } {
  const v = new DataView(prog.buffer, prog.byteOffset, prog.byteLength);
  const n = prog.byteLength / 8;
  const regs: (bigint | undefined)[] = [];
  regs[1] = -1n; // the context pointer: only loads from it
  const fields = [(ctx.access << 16) | ctx.type, ctx.major, ctx.minor];
  const get = (r: number) => {
    if (regs[r] === undefined || (r === 1 && regs[1] === -1n)) throw new Error(`r${r} read before it was written`);
    return regs[r]!;
  };
  for (let pc = 0, steps = 1; ; pc++, steps++) {
    if (pc >= n) throw new Error("ran off the end");
    const code = v.getUint8(pc * 8),
      dst = v.getUint8(pc * 8 + 1) & 0xf,
      src = v.getUint8(pc * 8 + 1) >> 4;
    const off = v.getInt16(pc * 8 + 2, true),
      imm = BigInt(v.getInt32(pc * 8 + 4, true));
    const jump = (taken: boolean) => {
      if (off < 0 || pc + 1 + off >= n) throw new Error(`insn ${pc}: jump out of the program`);
      if (taken) pc += off;
    };
    switch (code) {
      case 0x61:
        if (src !== 1 || regs[1] !== -1n || off % 4 || off > 8) throw new Error(`insn ${pc}: load from r${src}+${off}`);
        regs[dst] = BigInt(fields[off / 4]! >>> 0);
        break;
      case 0x54:
        regs[dst] = get(dst) & imm & U32;
        break;
      case 0x74:
        regs[dst] = (get(dst) & U32) >> imm;
        break;
      case 0xbc:
        regs[dst] = get(src) & U32;
        break;
      case 0xb7:
        regs[dst] = imm;
        break;
      case 0x55:
        jump(get(dst) !== imm);
        break;
      case 0x5d:
        jump(get(dst) !== get(src));
        break;
      case 0x15:
        jump(get(dst) === imm);
        break;
      case 0x95:
        return { ret: Number(get(0)), steps };
      default:
        throw new Error(`insn ${pc}: opcode ${code.toString(16)}`);
    }
  }
}

/** What the rules say: the last rule of the device's type (or a) and numbers (or *) that
 * matches decides: an allow rule naming every access asked for, a deny rule naming any. */
function allowed(rules: readonly DeviceRule[], type: "b" | "c", access: string, major: number, minor: number): boolean {
  const last = rules.findLast(
    (r) =>
      (r.type === "a" || r.type === type) &&
      (r.major < 0 || r.major === major) &&
      (r.minor < 0 || r.minor === minor) &&
      (r.deny ? [...access].some((c) => r.access.includes(c)) : [...access].every((c) => r.access.includes(c))),
  );
  return !!last && !last.deny;
}

const ACCESSES = ["m", "r", "w", "rw", "rm", "wm", "rwm"];
const MAJORS = [0, 1, 4, 5, 7, 10, 136, 254, 4095];
const MINORS = [0, 1, 2, 3, 5, 7, 8, 9, 11, 183, 200, 0xfffff];

function agrees(rules: readonly DeviceRule[]) {
  const prog = compileDeviceFilter(rules);
  for (const type of ["b", "c"] as const)
    for (const access of ACCESSES)
      for (const major of MAJORS)
        for (const minor of MINORS) {
          const bits = [...access].reduce((a, c) => a | ACCESS[c as keyof typeof ACCESS], 0);
          const { ret } = run(prog, { type: TYPE[type], access: bits, major, minor });
          expect([type, access, major, minor, ret]).toEqual([type, access, major, minor, allowed(rules, type, access, major, minor) ? 1 : 0]);
        }
}

describe("the cgroup v2 program", () => {
  const prog = compileDeviceFilter(DEFAULT_DEVICE_RULES);

  test("its instructions: the context into r2-r5, a block a rule from the last, return 0 at the end", () => {
    const hex = (i: number) => prog.subarray(i * 8, i * 8 + 8).toHex();
    expect([0, 1, 2, 3, 4, 5].map(hex)).toEqual([
      "6112000000000000", // r2 = *(u32 *)(r1 + 0)
      "54020000ffff0000", // w2 &= 0xffff: the type
      "6113000000000000", // r3 = *(u32 *)(r1 + 0)
      "7403000010000000", // w3 >>= 16: the access
      "6114040000000000", // r4 = major
      "6115080000000000", // r5 = minor
    ]);
    // the last rule first, c 10:200 rwm: type, major, minor, return 1
    expect([6, 7, 8, 9, 10].map(hex)).toEqual(["5502040002000000", "550403000a000000", "55050200c8000000", "b700000001000000", "9500000000000000"]);
    // c *:* m, the first rule last: the type, then the access (w1 = w3; w1 &= m; if r1 != r3 skip 3), return 1
    expect([61, 62, 63, 64, 65, 66].map(hex)).toEqual([
      "5502050002000000",
      "bc31000000000000",
      "5401000001000000",
      "5d31020000000000",
      "b700000001000000",
      "9500000000000000",
    ]);
    // c 1:3 rwm: type, major, minor, return 1
    expect([50, 51, 52, 53, 54].map(hex)).toEqual(["5502040002000000", "5504030001000000", "5505020003000000", "b700000001000000", "9500000000000000"]);
    expect([prog.byteLength / 8 - 2, prog.byteLength / 8 - 1].map(hex)).toEqual(["b700000000000000", "9500000000000000"]);
    expect(prog.byteLength / 8).toBe(69);
  });

  test("docker's list: every access to every kind of device answered as the rules say", () => {
    agrees(DEFAULT_DEVICE_RULES);
    const { ret, steps } = run(prog, { type: TYPE.c, access: ACCESS.r | ACCESS.w, major: 136, minor: 0 });
    // a pty: the prologue, c 10:200 to its major, its own
    expect([ret, steps]).toEqual([1, 6 + 2 + 4]);
  });

  test("--device and --device-cgroup-rule's rules, and an allow-all rule", () => {
    agrees([...DEFAULT_DEVICE_RULES, parseDeviceRule("c 1:11 w"), parseDeviceRule("b 254:0 r"), parseDeviceRule("b 7:* rm")]);
    agrees([parseDeviceRule("c *:3 r"), parseDeviceRule("b 1:* wm")]);
    agrees([ALL_DEVICES]);
    agrees([]);
  });

  test("deny rules after allow rules: the last rule that matches decides", () => {
    const deny = (text: string): DeviceRule => ({ ...parseDeviceRule(text), deny: true });
    // a hole in a wildcard (v1 cannot make it; this program can)
    const hole = [parseDeviceRule("c *:* rwm"), deny("c 1:3 w")];
    agrees(hole);
    const p = compileDeviceFilter(hole);
    expect(run(p, { type: TYPE.c, access: ACCESS.w, major: 1, minor: 3 }).ret).toBe(0);
    expect(run(p, { type: TYPE.c, access: ACCESS.r | ACCESS.w, major: 1, minor: 3 }).ret).toBe(0);
    expect(run(p, { type: TYPE.c, access: ACCESS.r, major: 1, minor: 3 }).ret).toBe(1);
    expect(run(p, { type: TYPE.c, access: ACCESS.w, major: 1, minor: 5 }).ret).toBe(1);
    // allowed again after the deny; allow all, then denials; a deny of every access
    agrees([...DEFAULT_DEVICE_RULES, deny("c 1:* w"), parseDeviceRule("c 1:5 w")]);
    agrees([ALL_DEVICES, deny("c 1:3 w"), deny("b *:* rwm"), parseDeviceRule("b 7:0 r")]);
    agrees([...DEFAULT_DEVICE_RULES, ALL_DEVICES, deny("c 136:* rm")]);
    agrees([parseDeviceRule("c 1:3 rwm"), { ...ALL_DEVICES, deny: true }, parseDeviceRule("c 1:5 r")]);
  });
});

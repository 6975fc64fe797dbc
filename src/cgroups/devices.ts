// Which device nodes a container may use, as rules: docker's default allow-list, plus
// --device and --device-cgroup-rule. Making a node is one thing (CAP_MKNOD), using it
// another: without these rules root in a container could make the host's disk or kernel
// log and open them. On cgroup v1 the rules go to the devices controller's files; on v2
// they are compiled into a BPF program (device-filter.ts).
import { MycfsError } from "../errors";

export interface DeviceRule {
  /** a: every device (and then every access); b: block; c: character */
  type: "a" | "b" | "c";
  /** -1: any (`*`) */
  major: number;
  minor: number;
  /** what it allows (or denies), a subset of "rwm" in that order: read, write, mknod */
  access: string;
  /** A rule that takes access away (config.json's allow: false); the last rule that
   * matches a request decides it. */
  deny?: true;
}

const ANY = -1;
const rule = (type: "b" | "c", major: number, minor: number, access = "rwm"): DeviceRule => ({ type, major, minor, access });

/** runc's default list, with docker's console: any node may be made, only these used. */
export const DEFAULT_DEVICE_RULES: readonly DeviceRule[] = [
  rule("c", ANY, ANY, "m"),
  rule("b", ANY, ANY, "m"),
  rule("c", 1, 3),
  rule("c", 1, 5),
  rule("c", 1, 7),
  rule("c", 1, 8),
  rule("c", 1, 9), // null zero full random urandom
  rule("c", 5, 0),
  rule("c", 5, 1),
  rule("c", 5, 2), // tty console ptmx
  rule("c", 136, ANY), // the container's own pseudo-terminals, /dev/pts/*
  rule("c", 10, 200), // net/tun
];

/** Every device, every access: --privileged, or the rule `a`. */
export const ALL_DEVICES: DeviceRule = { type: "a", major: ANY, minor: ANY, access: "rwm" };

/** Whether every device is allowed: an allow-all rule with no deny rule after it. */
export const allowsAll = (rules: readonly DeviceRule[]) => {
  const i = rules.findLastIndex((r) => r.type === "a");
  return i >= 0 && !rules[i]!.deny && !rules.slice(i).some((r) => r.deny);
};

/** The kernel's limits on device numbers (MINORBITS: 20; majors above 4095 are refused). */
const MAX = { major: 4095, minor: 0xfffff };

/** "rw", "mr", "rwm": the letters as a set, in rwm order; null if anything else. */
export function parseAccess(text: string): string | null {
  if (!/^[rwm]{1,3}$/.test(text) || new Set(text).size !== text.length) return null;
  return ["r", "w", "m"].filter((c) => text.includes(c)).join("");
}

function number(text: string, max: number): number | null {
  if (text === "*") return ANY;
  const n = /^\d{1,7}$/.test(text) ? Number(text) : NaN;
  return n <= max ? n : null;
}

/** --device-cgroup-rule, docker's syntax: `c 1:11 rwm`, `b *:* r`, `a`. */
export function parseDeviceRule(text: string): DeviceRule {
  const fail = (why: string) =>
    new MycfsError(
      `--device-cgroup-rule '${text}': ${why}; write TYPE MAJOR:MINOR PERMS, e.g. 'c 1:11 w' (TYPE c or b, * for any number, PERMS of rwm), or 'a' for every device`,
    );
  const t = text.trim();
  if (t === "a" || t === "a *:* rwm") return ALL_DEVICES;
  const m = /^([abc]) (\S+):(\S+) (\S+)$/.exec(t);
  if (!m) throw fail("not a rule");
  if (m[1] === "a") throw fail("type a allows every device, with no numbers or permissions of its own");
  const major = number(m[2]!, MAX.major),
    minor = number(m[3]!, MAX.minor),
    access = parseAccess(m[4]!);
  if (major === null) throw fail(`major '${m[2]}' is not * or a number up to ${MAX.major}`);
  if (minor === null) throw fail(`minor '${m[3]}' is not * or a number up to ${MAX.minor}`);
  if (access === null) throw fail(`permissions '${m[4]}' are not letters of rwm`);
  return rule(m[1] as "b" | "c", major, minor, access);
}

/** A rule as the v1 devices controller (and docker) write it: `c 136:* rwm`. */
export function ruleText(r: DeviceRule): string {
  const n = (x: number) => (x === ANY ? "*" : String(x));
  return r.type === "a" ? "a" : `${r.type} ${n(r.major)}:${n(r.minor)} ${r.access}`;
}

/** What the v1 devices controller is given, one write each, in order: a new cgroup
 * inherits its parent's list, so it starts from "deny all" (or from "allow all" where
 * the last type a rule allows), then each rule after it to devices.allow or devices.deny. */
export function deviceWrites(rules: readonly DeviceRule[]): { file: string; value: string }[] {
  if (allowsAll(rules)) return [{ file: "devices.allow", value: "a" }];
  const base = rules.findLastIndex((r) => r.type === "a");
  const allowBase = base >= 0 && !rules[base]!.deny;
  return [
    { file: allowBase ? "devices.allow" : "devices.deny", value: "a" },
    ...rules.slice(base + 1).map((r) => ({ file: r.deny ? "devices.deny" : "devices.allow", value: ruleText(r) })),
  ];
}

/** The first rule v1's devices controller would not honour, with the rule it conflicts
 * with. The kernel keeps exceptions to its default (deny all, or allow all): a rule of
 * the default's kind removes an exception only where its numbers are the exception's
 * own, so a deny of `c 1:3 w` after an allow of `c *:* rwm` changes nothing there (runc
 * refuses it too: it cannot punch a hole in a wildcard rule). v2's program can. */
export function v1Conflict(rules: readonly DeviceRule[]): { rule: DeviceRule; over: DeviceRule } | undefined {
  const base = rules.findLastIndex((r) => r.type === "a");
  const allowBase = base >= 0 && !rules[base]!.deny;
  const exceptions: DeviceRule[] = [];
  const overlaps = (x: number, y: number) => x === ANY || y === ANY || x === y;
  for (const rule of rules.slice(base + 1)) {
    if (!!rule.deny === allowBase) {
      exceptions.push(rule);
      continue;
    }
    const over = exceptions.find(
      (e) =>
        e.type === rule.type &&
        overlaps(e.major, rule.major) &&
        overlaps(e.minor, rule.minor) &&
        [...e.access].some((c) => rule.access.includes(c)) &&
        (e.major !== rule.major || e.minor !== rule.minor),
    );
    if (over) return { rule, over };
  }
  return undefined;
}

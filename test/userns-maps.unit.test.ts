// User namespaces as data: id maps, the ranges --userns=auto and rootless mode choose, and
// the ways a host refuses them (the containers: userns.test.ts, rootless.test.ts).
import { describe, expect, test } from "bun:test";
import { autoUserns, checkRanges, hostRoot, parseIdMap, resolveUserns, rootlessUserns, subidRange, usernsRefusal, type Userns } from "../src/container/userns";

describe("maps", () => {
  test("CONTAINER:HOST:SIZE, ranges that may not overlap", () => {
    expect(parseIdMap("0:100000:65536", "--uidmap")).toEqual({ inside: 0, outside: 100000, size: 65536 });
    expect(() => parseIdMap("0:100000", "--uidmap")).toThrow("--uidmap 0:100000: expected CONTAINER:HOST:SIZE");
    expect(() => parseIdMap("0:1:0", "--uidmap")).toThrow("at least one id");
    expect(() => parseIdMap("0:4294967290:100", "--gidmap")).toThrow("below 2^32-1");
    expect(() =>
      checkRanges(
        [
          { inside: 0, outside: 1000, size: 10 },
          { inside: 5, outside: 5000, size: 10 },
        ],
        "--uidmap",
      ),
    ).toThrow("overlap in the container");
    expect(() =>
      checkRanges(
        [
          { inside: 0, outside: 1000, size: 10 },
          { inside: 100, outside: 1005, size: 10 },
        ],
        "--uidmap",
      ),
    ).toThrow("overlap on the host");
    expect(() => hostRoot({ uids: [{ inside: 1, outside: 1000, size: 10 }], gids: [] })).toThrow("a range starting at 0");
  });

  test("auto: /etc/subuid's mycfs entry, or a fixed range above every handed-out one", () => {
    expect(subidRange("alice:100000:65536\nmycfs:300000:65536\n", "mycfs")).toEqual({ start: 300000, count: 65536 });
    expect(autoUserns("mycfs:300000:65536\n", "mycfs:400000:65536\n")).toEqual({
      uids: [{ inside: 0, outside: 300000, size: 65536 }],
      gids: [{ inside: 0, outside: 400000, size: 65536 }],
    });
    expect(autoUserns(null, null).uids[0]!.outside).toBe(1 << 30);
    expect(autoUserns(`bob:${2 ** 31}:70000\n`, null).uids[0]!.outside).toBe(Math.ceil((2 ** 31 + 70000) / 65536) * 65536);
    expect(resolveUserns(undefined, [], [])).toBeUndefined();
    expect(resolveUserns("host", [], [])).toBe("host");
    expect((resolveUserns(undefined, ["0:5000:10"], []) as Userns).gids).toEqual([{ inside: 0, outside: 5000, size: 10 }]);
    expect(() => resolveUserns("maybe", [], [])).toThrow("--userns maybe: expected auto or host");
  });
});

describe("rootless maps and refusals", () => {
  test("the caller's own id, or its /etc/subuid range through newuidmap", () => {
    expect(rootlessUserns(1000, 1000, "alice", "alice:100000:65536\n", "alice:100000:65536\n", true)).toEqual({
      uids: [
        { inside: 0, outside: 1000, size: 1 },
        { inside: 1, outside: 100000, size: 65536 },
      ],
      gids: [
        { inside: 0, outside: 1000, size: 1 },
        { inside: 1, outside: 100000, size: 65536 },
      ],
      rootless: "newidmap",
    });
    expect(rootlessUserns(1000, 1000, "alice", "alice:100000:65536\n", "alice:100000:65536\n", false).rootless).toBe("own-id");
    expect(rootlessUserns(1000, 1000, "alice", null, null, true).uids).toEqual([{ inside: 0, outside: 1000, size: 1 }]);
  });

  test("each way a host can refuse user namespaces is named, with the fix", () => {
    const host = (files: Record<string, string>) => (p: string) => files[p] ?? null;
    expect(usernsRefusal(host({}), 1000)).toBeNull();
    expect(usernsRefusal(host({ "/proc/sys/user/max_user_namespaces": "0\n" }), 0)).toContain("user.max_user_namespaces = 0");
    expect(usernsRefusal(host({ "/proc/sys/kernel/unprivileged_userns_clone": "0\n" }), 1000)).toContain("sysctl -w kernel.unprivileged_userns_clone=1");
    expect(usernsRefusal(host({ "/proc/sys/kernel/unprivileged_userns_clone": "0\n" }), 0)).toBeNull();
    expect(usernsRefusal(host({ "/proc/sys/kernel/apparmor_restrict_unprivileged_userns": "1\n" }), 1000)).toContain("AppArmor");
  });
});

// The release files of `npm run release` (dist/release), each run as its users would:
// the x64 ones running containers on this host (the musl one inside a musl root that
// mycfs itself runs), the arm64 ones under qemu-user (QEMU 10's qemu-aarch64). The arm64
// VM test boots the arm64 glibc one: test/vm/vm-arm64.test.ts.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { miniRootfs, tarOf } from "./cdn";
import { bunPart, spawnResult, tempDir, testStore } from "./helpers";
import { muslRoot } from "./release/musl-root";
import { qemuAarch64 } from "./release/qemu-user";

const DIST = resolve("dist/release");
const TARGETS = ["linux-x64", "linux-x64-musl", "linux-arm64", "linux-arm64-musl"] as const;
const file = (t: string) => join(DIST, `mycfs-${t}`);
const built = (t: string) => resolve("build/release", t, "tree/build");
const COMMIT = Bun.spawnSync(["git", "rev-parse", "HEAD"]).stdout.toString().trim();
/** The C library's loader each file names (its ELF interpreter). */
const INTERPRETER: Record<string, string> = {
  "linux-x64": "/lib64/ld-linux-x86-64.so.2",
  "linux-x64-musl": "/lib/ld-musl-x86_64.so.1",
  "linux-arm64": "/lib/ld-linux-aarch64.so.1",
  "linux-arm64-musl": "/lib/ld-musl-aarch64.so.1",
};

const store = testStore("release");
afterAll(store.cleanup);

beforeAll(() => {
  for (const t of TARGETS) if (!existsSync(file(t))) throw new Error(`${file(t)} is missing: run \`npm run release\` first`);
});

/** `mycfs version --format json` of a file, checked against what it was built as. */
function expectVersion(out: string, target: string) {
  const v = JSON.parse(out);
  expect(v.target).toBe(target);
  expect(v.commit).toMatch(new RegExp(`^${COMMIT}(-dirty)?$`));
  expect(v.bun).toStartWith(`${Bun.version} `);
  const libc = target.endsWith("-musl") ? "musl" : "glibc \\d+\\.\\d+";
  expect(v.libmycfs.build).toMatch(new RegExp(`^gcc [\\d.]+.*, ${libc}, ${target.includes("arm64") ? "aarch64" : "x86_64"}$`));
  expect(v.libmycfs.sha256).toBe(new Bun.CryptoHasher("sha256").update(readFileSync(join(built(target), "libmycfs.so"))).digest("hex"));
}

/** A tarball to import: a tiny root file system with an os-release naming it. */
async function tarball(dir: string): Promise<string> {
  const mini = miniRootfs("9.9.9");
  const path = join(dir, "rootfs.tar");
  await Bun.write(path, tarOf(mini.tree));
  rmSync(mini.dir, { recursive: true, force: true });
  return path;
}

describe("the release files", () => {
  test("SHA256SUMS holds each file's digest (sha256sum -c)", async () => {
    const sums = readFileSync(join(DIST, "SHA256SUMS"), "utf8");
    expect(
      sums
        .trim()
        .split("\n")
        .map((l) => l.split("  ")[1]),
    ).toEqual(TARGETS.map((t) => `mycfs-${t}`));
    const check = await spawnResult(["sh", "-c", `cd ${DIST} && sha256sum -c SHA256SUMS`]);
    expect(check.stdout).toBe(TARGETS.map((t) => `mycfs-${t}: OK\n`).join(""));
    expect(check.code).toBe(0);
  });

  test("each is for its architecture and C library, with libmycfs and the image under 2 MB together", async () => {
    const dir = tempDir("release-parts");
    for (const t of TARGETS) {
      // the front, static, then the Bun part, dynamic, for the target's C library
      const front = await spawnResult(["readelf", "-h", "-l", file(t)]);
      expect(front.stdout).toContain(t.includes("arm64") ? "AArch64" : "X86-64");
      expect(front.stdout).not.toContain("program interpreter");
      const { offset, size } = bunPart(file(t));
      const bun = join(dir, t);
      writeFileSync(bun, readFileSync(file(t)).subarray(offset, offset + size));
      const header = await spawnResult(["readelf", "-h", "-l", bun]);
      expect(header.stdout).toContain(t.includes("arm64") ? "AArch64" : "X86-64");
      expect(header.stdout).toContain(`[Requesting program interpreter: ${INTERPRETER[t]}]`);
      const lib = join(built(t), "libmycfs.so");
      const embedded = statSync(lib).size + statSync(join(built(t), "busybox.tar.gz")).size;
      expect(embedded).toBeLessThan(2 * 1024 * 1024);
      // libmycfs needs only the C library (zlib is dlopen'd, and optional)
      const needed = [...(await spawnResult(["readelf", "-d", lib])).stdout.matchAll(/\(NEEDED\)\s+Shared library: \[(.+)\]/g)].map((m) => m[1]);
      expect(needed).toEqual(t.endsWith("-musl") ? ["libc.so"] : ["libc.so.6"]);
      // the enter program `exec` runs is the target's own, inside its libmycfs
      expect(readFileSync(lib).includes(readFileSync(join(built(t), "mycfs-enter")))).toBe(true);
      // the glibc the README names: 2.34 for libmycfs, 2.17 for Bun
      if (!t.endsWith("-musl")) {
        const newest = async (f: string) =>
          [...(await spawnResult(["objdump", "-T", f])).stdout.matchAll(/GLIBC_2\.(\d+)/g)].map((m) => Number(m[1])).reduce((a, b) => Math.max(a, b));
        expect(await newest(lib)).toBe(34);
        expect(await newest(bun)).toBeLessThanOrEqual(34);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
});

test("musl's libmycfs names every errno as glibc's does (its own table; musl has no strerrorname_np)", async () => {
  const dir = tempDir("errnames");
  try {
    const names = async (cc: string[], lib: string) => {
      const bin = join(dir, cc[0]!);
      expect((await spawnResult([...cc, "-o", bin, "test/release/errnames.c", "-ldl"])).code).toBe(0);
      return (await spawnResult([bin, lib])).stdout;
    };
    const glibc = await names(["cc"], join(built("linux-x64"), "libmycfs.so"));
    expect(glibc).toContain("2 ENOENT\n");
    expect(await names(["musl-gcc"], join(built("linux-x64-musl"), "libmycfs.so"))).toBe(glibc);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe("linux-x64 on this host", () => {
  test("copied alone: version, --dry-run, an import, containers", async () => {
    const dir = tempDir("release-x64");
    try {
      const m = join(dir, "mycfs");
      copyFileSync(file("linux-x64"), m);
      Bun.spawnSync(["chmod", "+x", m]);
      const root = ["--root", join(dir, "store")];
      const v = await spawnResult([m, "version", "--format", "json"]);
      expect(v.code).toBe(0);
      expectVersion(v.stdout, "linux-x64");
      const dry = await spawnResult([m, "run", ...root, "--dry-run", "busybox", "true"]);
      expect(dry.code).toBe(0);
      expect(dry.stdout).toMatch(/PIVOT_ROOT|pivot_root/i);
      const run = await spawnResult([m, "run", "--rm", ...root, "busybox", "sh", "-c", "echo hello from $(uname -m)"]);
      expect(run.stdout).toBe("hello from x86_64\n");
      expect(run.code).toBe(0);
      const imported = await spawnResult([m, "import", ...root, await tarball(dir), "mini:1"]);
      expect(imported.code).toBe(0);
      const os = await spawnResult([m, "run", "--rm", ...root, "mini:1", "cat", "/etc/os-release"]);
      expect(os.stdout).toContain("VERSION_ID=9.9.9");
    } finally {
      Bun.spawnSync(["rm", "-rf", dir]);
    }
  }, 60_000);
});

describe("linux-x64-musl in a musl root (no glibc), run by linux-x64", () => {
  test("version, --dry-run, containers of its own from inside", async () => {
    const dir = tempDir("release-musl");
    try {
      const root = await muslRoot("x64", join(dir, "root"), resolve("build/busybox-static/bin/busybox"));
      mkdirSync(join(root, "opt"));
      copyFileSync(file("linux-x64-musl"), join(root, "opt/mycfs"));
      Bun.spawnSync(["chmod", "+x", join(root, "opt/mycfs")]);
      // the outer container: the musl root in place, privileged so that the inner mycfs can make namespaces and cgroups
      const outer = [file("linux-x64"), "run", "--rm", "--root", store.root, "--privileged", "--network", "none", "--rootfs", root];
      const inside = async (script: string) => spawnResult([...outer, "/bin/sh", "-c", script]);
      const glibc = await inside("ls /lib64 /lib/ld-linux* /lib/x86_64-linux-gnu 2>&1; ls /lib /usr/lib");
      expect(glibc.stdout).not.toContain("libc.so.6");
      const v = await inside("/opt/mycfs version --format json");
      expectVersion(v.stdout, "linux-x64-musl");
      const dry = await inside("/opt/mycfs run --dry-run busybox true");
      expect(dry.code).toBe(0);
      expect(dry.stdout).toMatch(/pivot_root/i);
      const run = await inside("/opt/mycfs run --rm --network none busybox sh -c 'echo nested in $(hostname)' && /opt/mycfs images");
      expect(run.stdout).toMatch(/^nested in [0-9a-f]{12}\n/);
      expect(run.stdout).toContain("busybox");
      expect(run.code).toBe(0);
    } finally {
      Bun.spawnSync(["rm", "-rf", dir]);
    }
  }, 120_000);
});

describe("the arm64 files under qemu-user (qemu-aarch64)", () => {
  const sysroot: Record<string, string> = {};
  beforeAll(async () => {
    sysroot["linux-arm64"] = "/usr/aarch64-linux-gnu"; // Debian's libc6-arm64-cross
    sysroot["linux-arm64-musl"] = await muslRoot("arm64", join(store.dir, "musl-arm64"), resolve("build/release/busybox-arm64/bin/busybox"));
  });

  // QEMU 10's user mode from backports (test/release/qemu-user.ts): 7.2's has no openat2.
  // No container runs under it (clone with namespaces: ENOSYS); the arm64 VM test runs them.
  // The Bun part is run itself: the front's exec of it would go to the host's kernel,
  // which runs no arm64 program without binfmt_misc.
  for (const t of ["linux-arm64", "linux-arm64-musl"])
    test(`${t}: --version, version, --dry-run, an import`, async () => {
      const qemu = await qemuAarch64();
      const { offset, size } = bunPart(file(t));
      const bun = join(store.dir, `${t}-bun`);
      writeFileSync(bun, readFileSync(file(t)).subarray(offset, offset + size), { mode: 0o755 });
      const run = (args: string[]) => spawnResult([qemu, "-L", sysroot[t]!, bun, ...args]);
      const line = await run(["--version"]);
      expect(line.stdout).toMatch(new RegExp(`^mycfs \\S+ \\(commit [0-9a-f]{12}(-dirty)?, ${t}, bun ${Bun.version}, libmycfs gcc .*, aarch64\\)\\n$`));
      const v = await run(["version", "--format", "json"]);
      expectVersion(v.stdout, t);
      const root = ["--root", join(store.dir, `store-${t}`)];
      // (the embedded image is installed first: unpacked by the arm64 libmycfs)
      const dry = await run(["run", ...root, "--dry-run", "busybox", "true"]);
      expect(dry.stderr).toBe("");
      expect(dry.stdout).toMatch(/pivot_root/i);
      expect(dry.code).toBe(0);
      const imported = await run(["import", ...root, await tarball(store.dir), "mini:1"]);
      expect(imported.stderr).toBe("");
      expect(imported.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
      const images = (await run(["images", ...root])).stdout;
      expect(images).toMatch(/^busybox:latest +1\.\d+\.\d+ /m);
      expect(images).toMatch(/^mini:1 /m);
    }, 120_000);
});

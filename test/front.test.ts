// dist/mycfs is the front (csrc/front/) with the Bun executable appended; it runs that part
// as a cached copy (csrc/front/runtime.c). The copy is trusted only in a directory no one
// else can write, owned by the user or root, read-only, of the right size: anything else is
// replaced, or refused, and never run. Root's copy is in /var/lib/mycfs/runtime: each test
// has a /var/lib of its own (a tmpfs in a mount namespace).
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { bunPart, inMountNamespace, MYCFS, spawnResult, startUntil, tempDir, testStore } from "./helpers";

const { size, name } = bunPart();
const RUNTIME = "/var/lib/mycfs/runtime";
const PLANTED = "#!/bin/sh\necho PLANTED\n";

/** `setup` (sh) in a mount namespace with an empty /var/lib, then `mycfs version`, then `after`. */
const withSetup = (setup: string, after = "") =>
  spawnResult(inMountNamespace(`mount -t tmpfs none /var/lib && ${setup} && "$@"; echo "rc $?"; ${after}`)([MYCFS, "version", "--format", "json"]));

/** A file where the copy goes, of its size, that prints PLANTED if it is ever run. */
const plant = (mode: string, owner = "0") =>
  `mkdir -p ${RUNTIME} && chmod 755 /var/lib/mycfs ${RUNTIME} && printf '${PLANTED}' > ${RUNTIME}/${name} && truncate -s ${size} ${RUNTIME}/${name} && chmod ${mode} ${RUNTIME}/${name} && chown ${owner} ${RUNTIME}/${name}`;

const stat = `stat -c '%u %a %s %F' ${RUNTIME}/${name}`;

test("extracted once into root's directory, read-only, then run from there", async () => {
  const r = await withSetup("true", `${stat}; stat -c '%a' /var/lib/mycfs ${RUNTIME}; ls ${RUNTIME}`);
  expect(r.stderr).toBe("");
  const [version, rc, file, top, runtime, listing] = r.stdout.trim().split("\n");
  expect(JSON.parse(version!).target).toStartWith("linux-");
  expect(rc).toBe("rc 0");
  expect(file).toBe(`0 555 ${size} regular file`);
  expect([top, runtime]).toEqual(["755", "755"]);
  expect(listing).toBe(name); // no temporary file left
});

test("copies of other builds: the four newest are kept", async () => {
  const old = [1, 2, 3, 4, 5].map((i) => `${RUNTIME}/mycfs-000000000000000${i}`);
  const setup = `mkdir -p ${RUNTIME} && chmod 755 /var/lib/mycfs && ${old.map((f, i) => `touch -d '2026-01-0${i + 1}' ${f}`).join(" && ")}`;
  const r = await withSetup(setup, `ls ${RUNTIME}`);
  expect(r.stdout.trim().split("\n").slice(2)).toEqual([...old.slice(2).map((f) => f.slice(RUNTIME.length + 1)), name].sort());
});

test("a copy owned by another user, writable by others, of another size or a symlink is replaced, never run", async () => {
  for (const setup of [
    plant("555", "1234"),
    plant("757"),
    plant("575"),
    `${plant("555")} && truncate -s ${size - 1} ${RUNTIME}/${name}`,
    `mkdir -p ${RUNTIME} && chmod 755 /var/lib/mycfs && printf '${PLANTED}' > /var/lib/planted && chmod 555 /var/lib/planted && ln -s /var/lib/planted ${RUNTIME}/${name}`,
  ]) {
    const r = await withSetup(setup, stat);
    expect(r.stdout).not.toContain("PLANTED");
    const [version, rc, file] = r.stdout.trim().split("\n");
    expect(JSON.parse(version!).version).toBeString();
    expect([rc, file]).toEqual(["rc 0", `0 555 ${size} regular file`]);
  }
});

test("a directory others may write, or another user owns, is refused with one line and nothing run", async () => {
  for (const [setup, dir] of [
    [`${plant("555")} && chmod 775 ${RUNTIME}`, RUNTIME],
    [`${plant("555")} && chown 1234 /var/lib/mycfs`, "/var/lib/mycfs"],
  ] as const) {
    const r = await withSetup(setup);
    expect(r.stdout).toBe("rc 1\n");
    expect(r.stderr).toBe(
      `mycfs: ${dir} is writable by others or owned by another user: mycfs runs nothing from it; remove it (mycfs makes it again) or chmod go-w it\n`,
    );
  }
});

test("no directory to be had (a read-only /var/lib, no home): a copy in memory is run", async () => {
  const r = await spawnResult(
    inMountNamespace(`mount -t tmpfs -o ro none /var/lib && env -u HOME -u XDG_DATA_HOME "$@"`)([MYCFS, "version", "--format", "json"]),
  );
  expect(r.stderr).toBe("");
  expect(JSON.parse(r.stdout).version).toBeString();
});

test("a user's copy goes to $XDG_DATA_HOME/mycfs/runtime, or ~/.local/share's", async () => {
  const dir = tempDir("front-user");
  try {
    const asNobody = (env: string[]) =>
      spawnResult([
        "sh",
        "-c",
        `chown 65534 ${dir} && chmod 755 ${dir} && setpriv --reuid=65534 --regid=65534 --clear-groups env ${env.join(" ")} ${MYCFS} version --format json`,
      ]);
    const xdg = await asNobody([`HOME=/nonexistent`, `XDG_DATA_HOME=${dir}/data`]);
    expect(xdg.stderr).toBe("");
    expect(JSON.parse(xdg.stdout).version).toBeString();
    expect(readFileSync(join(dir, "data/mycfs/runtime", name)).byteLength).toBe(size);
    const home = await asNobody([`HOME=${dir}`, "XDG_DATA_HOME="]);
    expect(home.code).toBe(0);
    expect(readFileSync(join(dir, ".local/share/mycfs/runtime", name)).byteLength).toBe(size);
  } finally {
    Bun.spawnSync(["rm", "-rf", dir]);
  }
});

test("a data directory too long for the front is not used at all, nor cut short into another", async () => {
  const dir = tempDir("front-long");
  try {
    // 4095 bytes of it would be `dir` itself, reached through "/./././…"
    let prefix = dir;
    while (prefix.length < 4094) prefix += prefix.length === 4093 ? "/" : "/.";
    const r = await spawnResult([
      "sh",
      "-c",
      `chown 65534 ${dir} && setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/nonexistent XDG_DATA_HOME=${prefix}/${"y".repeat(100)} ${MYCFS} version --format json`,
    ]);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout).version).toBeString(); // run from memory
    expect(readdirSync(dir)).toEqual([]);
  } finally {
    Bun.spawnSync(["rm", "-rf", dir]);
  }
});

test("the Bun part runs without JavaScriptCore's GC warm-up thread, unless the caller asks", async () => {
  const store = testStore("front-env");
  try {
    for (const [given, want] of [
      [undefined, "BUN_JSC_useWarmUpMarkedBlocks=0"],
      ["1", "BUN_JSC_useWarmUpMarkedBlocks=1"],
    ] as const) {
      const run = ["run", "--rm", "-i", "--root", store.root, "--network", "none", "busybox", "sh", "-c", "echo ready; cat"];
      const { proc } = await startUntil(run, "ready", { env: { BUN_JSC_useWarmUpMarkedBlocks: given }, stdin: "pipe" });
      // the container runs, so the front has run the Bun part in its place (the same pid)
      const environ = readFileSync(`/proc/${proc.pid}/environ`, "utf8").split("\0");
      proc.stdin!.end();
      expect(await proc.exited).toBe(0);
      expect(environ.filter((e) => e.startsWith("BUN_JSC_"))).toEqual([want]);
    }
  } finally {
    store.cleanup();
  }
});

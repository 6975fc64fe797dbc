// libFuzzer on the C that reads untrusted bytes: an archive's header blocks
// (csrc/tar_headers.c) and the plan (csrc/child/plan.c, walked by csrc/plan_dump.c), built with
// ASan and UBSan and run for a bounded time from seeds made here. Any finding fails the
// test with the input that caused it. Needs Debian's clang (.ci/run installs it).
import { expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { packTar } from "modern-tar";
import { encodePlan } from "../src/plan/encode";
import * as op from "../src/plan/ops";
import { file } from "./archives";
import { tempDir } from "./helpers";

/** How long each target runs: 10 s in the suite, longer when hunting (MYCFS_FUZZ_SECONDS=600). */
const SECONDS = Number(process.env.MYCFS_FUZZ_SECONDS ?? 10);

/** An entry's header blocks: the archive less its data and its two end blocks. */
async function headerBlocks(name: string): Promise<Uint8Array> {
  const tar = await packTar([file(name, "")]);
  return tar.subarray(0, tar.byteLength - 1024);
}

async function tarSeeds(): Promise<Uint8Array[]> {
  return [await headerBlocks("a"), await headerBlocks("f".repeat(120)), await headerBlocks(`${"d".repeat(120)}/x`)];
}

/** Plans with every string layout the encoder makes, each behind the output size byte. */
function planSeeds(): Uint8Array[] {
  const steps = [
    op.mount({ source: "proc", target: "/proc", fstype: "proc", flags: op.MS.NOSUID, inRoot: "dir", what: "mount proc" }),
    op.root("/store/c/rootfs"),
    op.symlink("/proc/self/fd", "/dev/fd"),
    op.write("/proc/self/oom_score_adj", "0", "set the OOM score"),
    op.seccomp(new Uint8Array(24).fill(7)),
    op.setid(1000, 1000, [1000, 10, 65534], "the container's user"),
    op.exec({ argv: ["sh", "-c", "true"], env: ["PATH=/bin", "HOME=/root"], path: "/bin:/usr/bin", init: false, ctty: false }),
  ];
  return [encodePlan(steps), encodePlan(steps.slice(0, 2)), encodePlan([])].map((p) => new Uint8Array([255, ...p]));
}

/** Builds the target, runs it for SECONDS from the seeds; the input of a finding, in hex. */
async function fuzz(name: string, sources: string[], seeds: Uint8Array[]): Promise<string> {
  const dir = tempDir(`fuzz-${name}`);
  try {
    const bin = join(dir, name);
    const cc = Bun.spawnSync(
      ["clang", "-g", "-O1", "-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=all", "-Icsrc", "-o", bin, `test/fuzz/${name}.c`, ...sources],
      { stderr: "pipe" },
    );
    if (cc.exitCode !== 0) throw new Error(`building the ${name} fuzzer failed (Debian's clang and libclang-rt-dev are needed):\n${cc.stderr}`);
    const [corpus, seedDir] = [join(dir, "corpus"), join(dir, "seeds")];
    mkdirSync(corpus);
    mkdirSync(seedDir);
    for (const [i, s] of seeds.entries()) writeFileSync(join(seedDir, `seed-${i}`), s);
    const run = Bun.spawn([bin, `-max_total_time=${SECONDS}`, "-timeout=5", "-rss_limit_mb=1024", `-artifact_prefix=${dir}/`, corpus, seedDir], {
      stdout: "ignore",
      stderr: "pipe",
    });
    const [log, code] = await Promise.all([new Response(run.stderr).text(), run.exited]);
    if (code === 0) return "";
    const found = readdirSync(dir).filter((f) => /^(crash|leak|timeout|oom)-/.test(f));
    return `${log.split("\n").slice(-40).join("\n")}\ninputs: ${found.map((f) => readFileSync(join(dir, f)).toString("hex")).join(", ")}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test(
  `the tar header checks and the plan decoder survive ${SECONDS} s of libFuzzer each`,
  async () => {
    const [tar, plan] = await Promise.all([
      fuzz("tar_headers", ["csrc/tar_headers.c"], await tarSeeds()),
      fuzz("plan", ["csrc/child/plan.c", "csrc/plan_dump.c"], planSeeds()),
    ]);
    expect(tar).toBe("");
    expect(plan).toBe("");
  },
  (SECONDS + 20) * 1000,
);

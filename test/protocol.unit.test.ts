// csrc/protocol.h and src/native/protocol.ts must say the same thing, number for number.
import { expect, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as P from "../src/native/protocol";
import { CLONE } from "../src/container/namespaces";
import { MS, PR } from "../src/plan/ops";
import { tempDir } from "./helpers";

const header = readFileSync("csrc/protocol.h", "utf8");

function cNumbers(prefix: string): Record<string, number> {
  const out: Record<string, number> = {};
  const re = new RegExp(`\\b${prefix}_([A-Z0-9_]+)\\s*=\\s*(\\d+)|#define ${prefix}_([A-Z0-9_]+)\\s+(0x[0-9a-f]+|\\d+)u?`, "g");
  for (const m of header.matchAll(re)) out[m[1] ?? m[3]!] = Number(m[2] ?? m[4]);
  return out;
}

test("op codes, flags, sync points, message kinds and call numbers match the C header", () => {
  expect(cNumbers("OP")).toEqual({ ...P.OpCode });
  expect(cNumbers("OPF")).toEqual({ ...P.OpFlag });
  expect(cNumbers("SYNC")).toEqual({ ...P.Sync });
  expect(cNumbers("MSG")).toEqual({ ...P.MsgKind });
  expect(cNumbers("PLANF")).toEqual({ ...P.PlanFlag });
  expect(cNumbers("CALL")).toEqual({ ...P.Call });
  expect(cNumbers("OCI")).toEqual({ ...P.OciStatus });
  expect(Number(header.match(/MYCFS_PLAN_MAGIC (0x[0-9a-f]+)u/)![1])).toBe(P.PLAN_MAGIC);
  expect(Number(header.match(/MYCFS_PLAN_VERSION (\d+)u/)![1])).toBe(P.PLAN_VERSION);
});

test("record sizes match what the C compiler lays out", () => {
  const dir = tempDir("sizes");
  try {
    const src = join(dir, "sizes.c");
    writeFileSync(
      src,
      `#include <stdio.h>\n#include "${process.cwd()}/csrc/protocol.h"\nint main(void){printf("%zu %zu %zu", sizeof(struct mycfs_plan_hdr), sizeof(struct mycfs_op_hdr), sizeof(struct mycfs_msg));}\n`,
    );
    const cc = Bun.spawnSync(["cc", "-o", join(dir, "sizes"), src]);
    expect(cc.exitCode).toBe(0);
    const [plan, op, msg] = Bun.spawnSync([join(dir, "sizes")])
      .stdout.toString()
      .split(" ")
      .map(Number);
    expect(plan).toBe(P.PLAN_HEADER_SIZE);
    expect(op).toBe(P.OP_HEADER_SIZE);
    expect(msg).toBe(24);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the kernel's numbers the plan carries (MS_*, CLONE_NEW*, PR_*) are the C headers'", () => {
  const names = [...Object.keys(MS).map((k) => `MS_${k}`), ...Object.keys(CLONE).map((k) => `CLONE_${k}`), ...Object.keys(PR).map((k) => `PR_${k}`)];
  const dir = tempDir("kernel-numbers");
  try {
    const src = join(dir, "numbers.c");
    writeFileSync(
      src,
      `#define _GNU_SOURCE\n#include <sched.h>\n#include <stdio.h>\n#include <sys/mount.h>\n#include <sys/prctl.h>\nint main(void){${names.map((n) => `printf("%lu\\n", (unsigned long)${n});`).join("")}}\n`,
    );
    const cc = Bun.spawnSync(["cc", "-o", join(dir, "numbers"), src], { stderr: "pipe" });
    expect(cc.stderr.toString()).toBe("");
    const values = Bun.spawnSync([join(dir, "numbers")])
      .stdout.toString()
      .trim()
      .split("\n")
      .map(Number);
    expect(Object.fromEntries(names.map((n, i) => [n, values[i]]))).toEqual(
      Object.fromEntries(
        names.map((n) => {
          const [kind, key] = [n.slice(0, n.indexOf("_")), n.slice(n.indexOf("_") + 1)];
          const table: Record<string, Record<string, number>> = { MS, CLONE, PR };
          return [n, table[kind]![key]];
        }),
      ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// csrc/sha256.c, with the CPU's SHA instructions and without, against Bun's SHA-256, at
// every length around its 64-byte blocks and for a large input fed in odd pieces.
import { afterAll, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./helpers";

const dir = tempDir("sha256");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// a tool that prints the sha256 of stdin, read in pieces of 1 to 1000 bytes
const main = join(dir, "main.c");
writeFileSync(
  main,
  `#include <stdio.h>
#include <unistd.h>
#include "${process.cwd()}/csrc/sha256.h"
int main(void) {
  static unsigned char buf[1000];
  struct sha256 s;
  sha256_init(&s);
  for (size_t piece = 1;; piece = piece % 1000 + 1) {
    ssize_t n = read(0, buf, piece);
    if (n <= 0) break;
    sha256_update(&s, buf, (size_t)n);
  }
  unsigned char d[32];
  sha256_final(&s, d);
  for (int i = 0; i < 32; i++) printf("%02x", d[i]);
  return 0;
}
`,
);

for (const [variant, flags] of [
  ["as built (SHA instructions where the CPU has them)", []],
  ["portable", ["-DSHA256_PORTABLE"]],
] as const)
  test(`sha256, ${variant}`, () => {
    const bin = join(dir, `sha-${flags.length}`);
    const cc = Bun.spawnSync(["cc", "-O2", "-Wall", "-Werror", ...flags, "-o", bin, main, "csrc/sha256.c"], { stderr: "pipe" });
    expect(cc.stderr.toString()).toBe("");
    const inputs = [...Array.from({ length: 200 }, (_, n) => crypto.getRandomValues(new Uint8Array(n))), new Uint8Array(3_000_001).map((_, i) => i * 7)];
    for (const data of inputs) {
      const out = Bun.spawnSync([bin], { stdin: data }).stdout.toString();
      expect([data.byteLength, out]).toEqual([data.byteLength, new Bun.CryptoHasher("sha256").update(data).digest("hex")]);
    }
  });

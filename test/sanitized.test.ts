// libmycfs built with AddressSanitizer and UndefinedBehaviorSanitizer, under the unit tests:
// every FFI call they make (the plan's decoding, the tar header checks, the file, state
// and path calls) runs sanitized inside Bun, which loads the library as mycfs does.
// A dlopen'ed ASan library needs the ASan runtime loaded first: LD_PRELOAD. ASan sees the
// C side's own memory (stack, globals, malloc); the buffers Bun hands over are not
// malloc's, so reads past their ends are the fuzzers' part (test/fuzz.test.ts).
import { afterAll, expect, test } from "bun:test";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./helpers";

const dir = tempDir("sanitized");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** csrc/ and csrc/child/ as build.ts compiles them (the enter program it embeds comes from `bun build.ts`), sanitized. */
async function buildSanitized(): Promise<string> {
  const flags = [
    "-fPIC",
    "-O1",
    "-g",
    "-std=gnu11",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-fvisibility=hidden",
    "-fno-omit-frame-pointer",
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=all",
    "-Wa,-Ibuild", // where enter_image.c's .incbin finds the enter program
  ];
  const sources = ["csrc", "csrc/child"].flatMap((d) =>
    readdirSync(d)
      .filter((f) => f.endsWith(".c"))
      .map((f) => join(d, f)),
  );
  const objects = sources.map((c) => join(dir, c.replaceAll("/", "-").replace(/\.c$/, ".o")));
  const compile = async (argv: string[]) => {
    const p = Bun.spawn(argv, { stderr: "pipe" });
    const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
    if (code !== 0) throw new Error(`${argv.join(" ")}:\n${err}`);
  };
  await Promise.all(sources.map((c, i) => compile(["cc", "-c", ...flags, "-o", objects[i]!, c])));
  const lib = join(dir, "libmycfs.so");
  await compile(["cc", "-shared", "-fsanitize=address,undefined", "-Wl,-z,now", "-o", lib, ...objects, "-lpthread", "-ldl"]);
  return lib;
}

test("the unit tests pass on libmycfs built with ASan and UBSan, with no report", async () => {
  const lib = await buildSanitized();
  const asan = Bun.spawnSync(["cc", "-print-file-name=libasan.so"]).stdout.toString().trim();
  const p = Bun.spawn(
    [process.execPath, "--config=test/unit.bunfig.toml", "test", "--timeout", "20000", "--preload", "./test/sanitized-lib.ts", ".unit.test."],
    {
      stdout: "pipe",
      stderr: "pipe",
      // no leak check: Bun's own allocations at exit would be reported
      env: { ...process.env, MYCFS_SANITIZED_LIB: lib, LD_PRELOAD: asan, ASAN_OPTIONS: "detect_leaks=0", UBSAN_OPTIONS: "print_stacktrace=1" },
    },
  );
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  const log = out + err;
  const report = log.match(/(ERROR: AddressSanitizer|runtime error:).*/s)?.[0].slice(0, 4000);
  expect(report ?? "").toBe("");
  expect([code, log.match(/^ *\d+ fail$/m)?.[0].trim()]).toEqual([0, "0 fail"]);
}, 120_000);

// Preloaded by test/sanitized.test.ts into the unit tests: build/libmycfs.so, wherever it
// is imported, becomes the ASan/UBSan build at $MYCFS_SANITIZED_LIB.
import { plugin } from "bun";

const sanitized = process.env.MYCFS_SANITIZED_LIB;
if (!sanitized) throw new Error("MYCFS_SANITIZED_LIB: the path of the sanitized libmycfs.so is not set");
// the ASan runtime is loaded in this process; the programs the tests run need none
delete process.env.LD_PRELOAD;
plugin({
  name: "sanitized libmycfs",
  setup(build) {
    build.onResolve({ filter: /\/build\/libmycfs\.so$/ }, () => ({ path: sanitized }));
  },
});

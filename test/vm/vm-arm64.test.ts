// The minimal VM test (suite.ts) on arm64, emulated (qemu-system-aarch64, TCG): Debian's
// arm64 kernel, the release's dist/release/mycfs-linux-arm64 (`npm run release`).
import { vmSuite } from "./suite";

vmSuite("arm64");

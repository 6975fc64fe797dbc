// The minimal VM test (suite.ts) on x86_64: Debian's amd64 kernel, dist/mycfs.
import { vmSuite } from "./suite";

vmSuite("x64");

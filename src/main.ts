#!/usr/bin/env bun
import { main } from "./cli/main";

// no top-level await: `bun build --bytecode` precompiles only modules without it
main(process.argv.slice(2));

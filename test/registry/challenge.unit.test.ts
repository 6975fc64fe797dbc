// WWW-Authenticate headers as registries send them.
import { expect, test } from "bun:test";
import { parseChallenges } from "../../src/registry/challenge";

test("Docker Hub's bearer challenge", () => {
  expect(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"')).toEqual([
    { scheme: "bearer", params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/nginx:pull" } },
  ]);
});

test("basic, and two challenges joined, a comma inside quotes", () => {
  expect(parseChallenges('Basic realm="a, b", Bearer realm="https://x/token", service=y')).toEqual([
    { scheme: "basic", params: { realm: "a, b" } },
    { scheme: "bearer", params: { realm: "https://x/token", service: "y" } },
  ]);
});

test("escaped quotes, upper-case names, an unquoted URL, a token68 passed over", () => {
  expect(parseChallenges('Negotiate abc123==, BASIC Realm="say \\"hi\\""')).toEqual([
    { scheme: "negotiate", params: {} },
    { scheme: "basic", params: { realm: 'say "hi"' } },
  ]);
  expect(parseChallenges("Bearer realm=https://auth.example/token,service=reg")).toEqual([
    { scheme: "bearer", params: { realm: "https://auth.example/token", service: "reg" } },
  ]);
});

test("nothing, or garbage, is no challenge", () => {
  expect(parseChallenges("")).toEqual([]);
  expect(parseChallenges(' ,, "')).toEqual([]);
});

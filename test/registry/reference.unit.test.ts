// References as docker reads them, registries as login takes them, and the hosts where
// plain http is allowed.
import { describe, expect, test } from "bun:test";
import { MycfsError } from "../../src/errors";
import { apiHost, isLoopback, parseReference, parseRegistry } from "../../src/registry/reference";

const D = `sha256:${"ab".repeat(32)}`;

describe("parseReference", () => {
  test.each([
    ["nginx", "docker.io", "library/nginx", "latest", undefined],
    ["nginx:1.27-alpine", "docker.io", "library/nginx", "1.27-alpine", undefined],
    ["library/nginx", "docker.io", "library/nginx", "latest", undefined],
    ["user/app", "docker.io", "user/app", "latest", undefined],
    ["foo_bar/app", "docker.io", "foo_bar/app", "latest", undefined],
    ["docker.io/nginx", "docker.io", "library/nginx", "latest", undefined],
    ["index.docker.io/library/nginx:1", "docker.io", "library/nginx", "1", undefined],
    ["registry-1.docker.io/user/app", "docker.io", "user/app", "latest", undefined],
    ["quay.io/org/app:v1", "quay.io", "org/app", "v1", undefined],
    ["localhost/app", "localhost", "app", "latest", undefined],
    ["localhost:5000/app", "localhost:5000", "app", "latest", undefined],
    ["Registry.Example/app", "Registry.Example", "app", "latest", undefined],
    [`127.0.0.1:5000/a/b-c/d__e:tag@${D}`, "127.0.0.1:5000", "a/b-c/d__e", "tag", D],
    ["[::1]:5000/app:x", "[::1]:5000", "app", "x", undefined],
    [`nginx@${D}`, "docker.io", "library/nginx", undefined, D],
  ])("%s", (input, registry, repository, tag, digest) => {
    const r = parseReference(input);
    expect(r).toEqual({
      registry,
      repository,
      ...(tag && { tag }),
      ...(digest && { digest }),
      display: `${registry}/${repository}${tag ? `:${tag}` : ""}${digest ? `@${digest}` : ""}`,
    });
  });

  test("docker.io/library/nginx:latest is how a short name shows", () => {
    expect(parseReference("nginx").display).toBe("docker.io/library/nginx:latest");
  });

  test.each([
    ["", "names no image"],
    ["Nginx", "must be lower-case"],
    ["nginx:", "the tag ''"],
    ["nginx:-x", "the tag '-x'"],
    [`nginx:${"t".repeat(129)}`, "up to 128"],
    ["nginx@sha256:abc", "the digest must be sha256"],
    [`nginx@sha512:${"a".repeat(128)}`, "the digest must be sha256"],
    [`nginx@SHA256:${"A".repeat(64)}`, "the digest must be sha256"],
    ["a//b", "'' is not a name component"],
    ["app-/x", "'app-' is not a name component"],
    ["x:y:z", "'x:y' is not a name component"],
    ["bad_host.io:99999999/app", "is not a registry's host[:port]"],
    [`quay.io/${"a".repeat(250)}`, "longer than 255"],
  ])("refuses %p: one line saying why", (input, why) => {
    const e = (() => {
      try {
        parseReference(input);
      } catch (e) {
        return e;
      }
    })() as MycfsError;
    expect(e).toBeInstanceOf(MycfsError);
    expect(e.message).toStartWith(`image reference '${input}' is not valid: `);
    expect(e.message).toContain(why);
    expect(e.message).not.toContain("\n");
  });
});

describe("registries", () => {
  test.each([
    ["quay.io", "quay.io"],
    ["docker.io", "docker.io"],
    ["index.docker.io", "docker.io"],
    ["https://index.docker.io/v1/", "docker.io"],
    ["HTTP://127.0.0.1:5000/", "127.0.0.1:5000"],
    ["[::1]:5000", "[::1]:5000"],
  ])("parseRegistry(%p) = %p", (input, host) => expect(parseRegistry(input)).toBe(host));

  test("a registry that is no host is refused", () => {
    expect(() => parseRegistry("not a host")).toThrow("'not a host' is not a registry: give its host[:port]");
  });

  test("Docker Hub's API is on registry-1.docker.io", () => {
    expect(apiHost("docker.io")).toBe("registry-1.docker.io");
    expect(apiHost("quay.io")).toBe("quay.io");
  });

  test.each([
    ["localhost", true],
    ["localhost:5000", true],
    ["127.0.0.1:5000", true],
    ["127.3.2.1", true],
    ["[::1]:5000", true],
    ["[::1]", true],
    ["::1", true],
    ["128.0.0.1", false],
    ["127.0.0.1.nip.io", false],
    ["example.com:5000", false],
  ])("isLoopback(%p) = %p", (host, yes) => expect(isLoopback(host)).toBe(yes));
});

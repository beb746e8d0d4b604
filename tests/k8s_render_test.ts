/**
 * The offline kustomize subset (infra/k8s/kustomize.ts) and JSON patch: unit behaviour on small
 * fixtures, and equality with the real `kubectl kustomize` for every kustomization of infra/k8s
 * when kubectl is installed.
 */
import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import { applyJsonPatch } from "../infra/k8s/json_patch.ts";
import {
  KustomizeError,
  objectId,
  parseManifests,
  renderKustomization,
} from "../infra/k8s/kustomize.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const KUSTOMIZATIONS = ["base", "kafka", "overlays/dev", "overlays/prod", "backfill"];

Deno.test("json patch: add, replace, remove, escaped keys and array append", () => {
  const doc = { a: { "x/y": 1, list: [1, 2] }, b: 2 };
  const out = applyJsonPatch(doc, [
    { op: "replace", path: "/a/x~1y", value: 5 },
    { op: "add", path: "/a/list/-", value: 3 },
    { op: "add", path: "/a/list/0", value: 0 },
    { op: "remove", path: "/b" },
    { op: "add", path: "/c", value: { d: true } },
    { op: "copy", from: "/c", path: "/e" },
    { op: "test", path: "/e/d", value: true },
  ]);
  assert.deepEqual(out, { a: { "x/y": 5, list: [0, 1, 2, 3] }, c: { d: true }, e: { d: true } });
  assert.deepEqual(doc, { a: { "x/y": 1, list: [1, 2] }, b: 2 }, "input untouched");
});

Deno.test("json patch: replace or remove of a missing path and a failing test are errors", () => {
  assert.throws(
    () => applyJsonPatch({ a: 1 }, [{ op: "replace", path: "/b", value: 1 }]),
    RangeError,
  );
  assert.throws(() => applyJsonPatch({ a: [1] }, [{ op: "remove", path: "/a/1" }]), RangeError);
  assert.throws(() => applyJsonPatch({ a: 1 }, [{ op: "test", path: "/a", value: 2 }]), RangeError);
  assert.throws(
    () => applyJsonPatch({ a: 1 }, [{ op: "add", path: "/x/y", value: 2 }]),
    RangeError,
  );
});

async function fixture(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "k8s_render_" });
  for (const [name, text] of Object.entries(files)) {
    const path = `${dir}/${name}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(path, text);
  }
  return dir;
}

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
        - name: web
          image: app:1.0
---
apiVersion: v1
kind: Namespace
metadata:
  name: ns1
`;

Deno.test("kustomize: namespace, labels with templates, images and targeted patches in an overlay", async () => {
  const dir = await fixture({
    "base/kustomization.yaml": `namespace: ns1
labels:
  - pairs: { team: a }
    includeTemplates: true
resources: [app.yaml]
`,
    "base/app.yaml": DEPLOYMENT,
    "over/kustomization.yaml": `resources: [../base]
labels:
  - pairs: { env: x }
images:
  - name: app
    newName: reg/app
    newTag: "2.0"
patches:
  - target: { kind: Deployment, name: web }
    patch: |-
      - op: replace
        path: /spec/replicas
        value: 3
`,
  });
  try {
    const objs = await renderKustomization(`${dir}/over`);
    const dep = objs.find((o) => o.kind === "Deployment")!;
    const ns = objs.find((o) => o.kind === "Namespace")!;
    assert.equal(dep.metadata.namespace, "ns1");
    assert.equal(ns.metadata.namespace, undefined, "cluster-scoped kinds get no namespace");
    assert.deepEqual(dep.metadata.labels, { team: "a", env: "x" });
    const spec = dep.spec as {
      replicas: number;
      selector: { matchLabels: Record<string, string> };
      template: {
        metadata: { labels: Record<string, string> };
        spec: { containers: { image: string }[] };
      };
    };
    assert.equal(spec.replicas, 3);
    assert.deepEqual(spec.template.metadata.labels, { app: "web", team: "a" });
    assert.deepEqual(spec.selector.matchLabels, { app: "web" }, "selectors untouched by default");
    assert.equal(spec.template.spec.containers[0].image, "reg/app:2.0");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("kustomize: unsupported fields, patches matching nothing and duplicates are errors", async () => {
  const cases: Record<string, string>[] = [
    {
      "k/kustomization.yaml": "resources: [a.yaml]\ncommonAnnotations: { a: b }\n",
      "k/a.yaml": DEPLOYMENT,
    },
    {
      "k/kustomization.yaml": `resources: [a.yaml]
patches:
  - target: { kind: Deployment, name: nope }
    patch: "[{op: remove, path: /spec}]"
`,
      "k/a.yaml": DEPLOYMENT,
    },
    {
      "k/kustomization.yaml": "resources: [a.yaml, b.yaml]\n",
      "k/a.yaml": DEPLOYMENT,
      "k/b.yaml": DEPLOYMENT,
    },
    {
      "k/kustomization.yaml": `resources: [a.yaml]
patches:
  - target: { kind: Deployment }
    patch: "spec: { replicas: 2 }"
`,
      "k/a.yaml": DEPLOYMENT,
    },
  ];
  for (const files of cases) {
    const dir = await fixture(files);
    try {
      await assert.rejects(renderKustomization(`${dir}/k`), KustomizeError);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("kustomize: YAML errors and documents without kind or name are errors", () => {
  assert.throws(() => parseManifests("a: [1,\n", "x.yaml"), KustomizeError);
  assert.throws(
    () => parseManifests("apiVersion: v1\nkind: ConfigMap\n", "x.yaml"),
    KustomizeError,
  );
  assert.equal(
    parseManifests("---\n---\napiVersion: v1\nkind: A\nmetadata: {name: a}\n", "x").length,
    1,
  );
});

function kubectl(): boolean {
  try {
    return new Deno.Command("kubectl", {
      args: ["version", "--client"],
      stdout: "null",
      stderr: "null",
    })
      .outputSync().success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "every kustomization of infra/k8s renders exactly as `kubectl kustomize` does",
  ignore: !kubectl(),
  async fn() {
    for (const k of KUSTOMIZATIONS) {
      const dir = `${ROOT}/infra/k8s/${k}`;
      const out = await new Deno.Command("kubectl", { args: ["kustomize", dir] }).output();
      assert.ok(out.success, `kubectl kustomize ${k}: ${new TextDecoder().decode(out.stderr)}`);
      const ref = parseManifests(new TextDecoder().decode(out.stdout), `kubectl kustomize ${k}`);
      const mine = await renderKustomization(dir);
      assert.deepEqual(mine.map(objectId).sort(), ref.map(objectId).sort(), `${k}: same objects`);
      const byId = new Map(mine.map((o) => [objectId(o), o]));
      for (const r of ref) {
        assert.ok(
          isDeepStrictEqual(byId.get(objectId(r)), r),
          `${k}: ${objectId(r)} differs from kubectl's`,
        );
      }
    }
  },
});

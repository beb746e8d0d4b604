/**
 * @module
 * The subset of kustomize that infra/k8s uses, so the manifests can be rendered and validated
 * offline without a kustomize binary: `resources` (files and kustomization directories),
 * `namespace`, `labels` (`pairs`, `includeSelectors`, `includeTemplates`), `images` (`name`,
 * `newName`, `newTag`, `digest`) and `patches` holding inline RFC 6902 operations with a `target`
 * (`group`, `version`, `kind`, `name`, `namespace`, matched exactly). Anything else in a
 * kustomization is rejected rather than ignored. Transformers run in kustomize's order: patches,
 * namespace, labels, images.
 */
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { applyJsonPatch, isJsonPatch } from "./json_patch.ts";

/** A Kubernetes object as parsed from YAML. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata:
    & { name: string; namespace?: string; labels?: Record<string, string> }
    & Record<
      string,
      unknown
    >;
  [field: string]: unknown;
}

interface PatchTarget {
  group?: string;
  version?: string;
  kind?: string;
  name?: string;
  namespace?: string;
}

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  resources?: string[];
  labels?: {
    pairs: Record<string, string>;
    includeSelectors?: boolean;
    includeTemplates?: boolean;
  }[];
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
  patches?: { target: PatchTarget; patch: string }[];
}

const KNOWN_KEYS = new Set([
  "apiVersion",
  "kind",
  "namespace",
  "resources",
  "labels",
  "images",
  "patches",
]);

/** Kinds without a namespace (the built-in ones this platform could use). */
const CLUSTER_SCOPED = new Set([
  "Namespace",
  "ClusterRole",
  "ClusterRoleBinding",
  "PersistentVolume",
  "StorageClass",
  "CustomResourceDefinition",
  "PriorityClass",
  "IngressClass",
  "ValidatingWebhookConfiguration",
  "MutatingWebhookConfiguration",
]);

/** Kinds with a pod template at spec.template. */
const TEMPLATE_KINDS = new Set([
  "Deployment",
  "ReplicaSet",
  "DaemonSet",
  "StatefulSet",
  "Job",
  "ReplicationController",
]);

/** A kustomization that cannot be rendered; names the file and the cause. */
export class KustomizeError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "KustomizeError";
  }
}

function join(dir: string, rel: string): string {
  const parts = (rel.startsWith("/") ? rel : `${dir}/${rel}`).split("/");
  const out: string[] = [];
  for (const p of parts) {
    if (p === "..") out.length > 0 && out[out.length - 1] !== "" ? out.pop() : out.push(p);
    else if (p !== "." && !(p === "" && out.length > 0)) out.push(p);
  }
  return out.join("/") || ".";
}

/**
 * Parses a multi-document YAML file into Kubernetes objects (empty documents skipped).
 * @throws {KustomizeError} on a YAML error or a document that is not an object with kind and name
 */
export function parseManifests(text: string, source: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(text, { prettyErrors: true })) {
    if (doc.errors.length > 0) {
      throw new KustomizeError(`${source}: ${doc.errors[0].message}`);
    }
    const value = doc.toJS({ maxAliasCount: 0 });
    if (value === null || value === undefined) continue;
    if (
      typeof value !== "object" || Array.isArray(value) || typeof value.kind !== "string" ||
      typeof value.apiVersion !== "string" || typeof value.metadata?.name !== "string"
    ) {
      throw new KustomizeError(`${source}: a document lacks apiVersion, kind or metadata.name`);
    }
    out.push(value as K8sObject);
  }
  return out;
}

function groupVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf("/");
  return i < 0
    ? { group: "", version: apiVersion }
    : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

function matches(obj: K8sObject, t: PatchTarget): boolean {
  const gv = groupVersion(obj.apiVersion);
  return (t.group === undefined || t.group === gv.group) &&
    (t.version === undefined || t.version === gv.version) &&
    (t.kind === undefined || t.kind === obj.kind) &&
    (t.name === undefined || t.name === obj.metadata.name) &&
    (t.namespace === undefined || t.namespace === obj.metadata.namespace);
}

function ensureMap(parent: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = parent[key];
  if (typeof v === "object" && v !== null && !Array.isArray(v)) {
    return v as Record<string, unknown>;
  }
  const m: Record<string, unknown> = {};
  parent[key] = m;
  return m;
}

function addLabels(meta: Record<string, unknown>, pairs: Record<string, string>) {
  Object.assign(ensureMap(meta, "labels"), pairs);
}

function asMap(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v)
    ? v as Record<string, unknown>
    : undefined;
}

/** The pod specs of an object (Pod, workloads with spec.template, CronJob). */
export function podSpecs(obj: K8sObject): Record<string, unknown>[] {
  const spec = asMap(obj.spec);
  if (!spec) return [];
  if (obj.kind === "Pod") return [spec];
  if (TEMPLATE_KINDS.has(obj.kind)) {
    const s = asMap(asMap(spec.template)?.spec);
    return s ? [s] : [];
  }
  if (obj.kind === "CronJob") {
    const s = asMap(asMap(asMap(asMap(spec.jobTemplate)?.spec)?.template)?.spec);
    return s ? [s] : [];
  }
  return [];
}

function applyLabels(obj: K8sObject, l: NonNullable<Kustomization["labels"]>[number]) {
  addLabels(obj.metadata, l.pairs);
  const spec = asMap(obj.spec);
  if (!spec) return;
  if (l.includeTemplates || l.includeSelectors) {
    if (TEMPLATE_KINDS.has(obj.kind)) {
      addLabels(ensureMap(ensureMap(spec, "template"), "metadata"), l.pairs);
    } else if (obj.kind === "CronJob") {
      const jt = ensureMap(spec, "jobTemplate");
      addLabels(ensureMap(jt, "metadata"), l.pairs);
      addLabels(ensureMap(ensureMap(ensureMap(jt, "spec"), "template"), "metadata"), l.pairs);
    }
  }
  if (l.includeSelectors) {
    if (obj.kind === "Service") Object.assign(ensureMap(spec, "selector"), l.pairs);
    else if (TEMPLATE_KINDS.has(obj.kind) || obj.kind === "PodDisruptionBudget") {
      Object.assign(ensureMap(ensureMap(spec, "selector"), "matchLabels"), l.pairs);
    }
  }
}

function splitImage(image: string): { name: string; tag?: string; digest?: string } {
  const at = image.indexOf("@");
  const digest = at >= 0 ? image.slice(at + 1) : undefined;
  const rest = at >= 0 ? image.slice(0, at) : image;
  const colon = rest.lastIndexOf(":");
  return colon > rest.lastIndexOf("/")
    ? { name: rest.slice(0, colon), tag: rest.slice(colon + 1), digest }
    : { name: rest, digest };
}

function applyImages(obj: K8sObject, images: NonNullable<Kustomization["images"]>) {
  for (const pod of podSpecs(obj)) {
    for (const key of ["initContainers", "containers"]) {
      const list = pod[key];
      if (!Array.isArray(list)) continue;
      for (const c of list as Record<string, unknown>[]) {
        if (typeof c.image !== "string") continue;
        const cur = splitImage(c.image);
        const rule = images.find((i) => i.name === cur.name);
        if (!rule) continue;
        const name = rule.newName ?? cur.name;
        if (rule.digest) c.image = `${name}@${rule.digest}`;
        else if (rule.newTag) c.image = `${name}:${rule.newTag}`;
        else {
          c.image = name + (cur.tag ? `:${cur.tag}` : "") + (cur.digest ? `@${cur.digest}` : "");
        }
      }
    }
  }
}

async function readKustomization(dir: string): Promise<Kustomization> {
  for (const name of ["kustomization.yaml", "kustomization.yml", "Kustomization"]) {
    let text: string;
    try {
      text = await Deno.readTextFile(`${dir}/${name}`);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue;
      throw e;
    }
    const k = parseYaml(text) as Kustomization | null;
    if (!k || typeof k !== "object") throw new KustomizeError(`${dir}/${name}: empty`);
    for (const key of Object.keys(k)) {
      if (!KNOWN_KEYS.has(key)) {
        throw new KustomizeError(
          `${dir}/${name}: field "${key}" is not supported by this renderer`,
        );
      }
    }
    return k;
  }
  throw new KustomizeError(`${dir}: no kustomization.yaml`);
}

/**
 * Renders a kustomization directory to its objects, in resource order.
 * @param dir the directory holding kustomization.yaml
 * @throws {KustomizeError} on an unsupported field, a patch that matches nothing, a failing patch
 * operation or two objects with the same identity
 * @example
 * ```ts
 * const objects = await renderKustomization("infra/k8s/overlays/prod");
 * ```
 */
export async function renderKustomization(dir: string): Promise<K8sObject[]> {
  const k = await readKustomization(dir);
  let objects: K8sObject[] = [];
  for (const res of k.resources ?? []) {
    const path = join(dir, res);
    const stat = await Deno.stat(path).catch((e) => {
      throw new KustomizeError(`${dir}: resource ${res} not found`, { cause: e });
    });
    objects.push(
      ...(stat.isDirectory
        ? await renderKustomization(path)
        : parseManifests(await Deno.readTextFile(path), path)),
    );
  }
  const seen = new Set<string>();
  for (const o of objects) {
    const id = objectId(o);
    if (seen.has(id)) throw new KustomizeError(`${dir}: duplicate object ${id}`);
    seen.add(id);
  }
  for (const [i, p] of (k.patches ?? []).entries()) {
    if (typeof p.patch !== "string" || !p.target) {
      throw new KustomizeError(`${dir}: patches[${i}] needs an inline "patch" and a "target"`);
    }
    const ops = parseYaml(p.patch);
    if (!isJsonPatch(ops)) {
      throw new KustomizeError(`${dir}: patches[${i}] is not a JSON 6902 list of operations`);
    }
    let hit = 0;
    objects = objects.map((o) => {
      if (!matches(o, p.target)) return o;
      hit++;
      try {
        return applyJsonPatch(o, ops);
      } catch (e) {
        throw new KustomizeError(
          `${dir}: patches[${i}] on ${objectId(o)}: ${(e as Error).message}`,
          {
            cause: e,
          },
        );
      }
    });
    if (hit === 0) {
      throw new KustomizeError(
        `${dir}: patches[${i}] target ${JSON.stringify(p.target)} matches nothing`,
      );
    }
  }
  if (k.namespace !== undefined) {
    for (const o of objects) {
      if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
    }
  }
  for (const l of k.labels ?? []) for (const o of objects) applyLabels(o, l);
  if (k.images) { for (const o of objects) applyImages(o, k.images); }
  return objects;
}

/** `group/version Kind namespace/name`, unique within a rendering. */
export function objectId(o: K8sObject): string {
  return `${o.apiVersion} ${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`;
}

/**
 * @module
 * Offline validation of rendered manifests against the Kubernetes OpenAPI schemas, through the
 * maintained `kubernetes-models` package (each object is constructed with its model class and
 * `.validate()`d: types, formats, required fields, enums). Its JSON schemas allow unknown fields,
 * so {@linkcode typeCheckSource} additionally emits a TypeScript module assigning every object to
 * the package's interface type: `deno check` then rejects any misspelt or misplaced field (excess
 * property check), as a strict API server would.
 */
import { Model } from "@kubernetes-models/base";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { CronJob } from "kubernetes-models/batch/v1/CronJob";
import { Job } from "kubernetes-models/batch/v1/Job";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { PersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import type { K8sObject } from "./kustomize.ts";
import { validateKafkaTopic } from "./strimzi.ts";

// deno-lint-ignore no-explicit-any
type ModelClass = new (data?: any) => Model<unknown>;

interface Schema {
  model?: ModelClass;
  /** Module and interface name for the strict type check. */
  typeModule: string;
  typeName: string;
}

const STRIMZI = new URL("./strimzi.ts", import.meta.url).href;

/** Every kind the platform's manifests may contain, by `apiVersion kind`. */
export const SCHEMAS: Readonly<Record<string, Schema>> = {
  "v1 Namespace": {
    model: Namespace,
    typeModule: "kubernetes-models/v1/Namespace",
    typeName: "INamespace",
  },
  "v1 ConfigMap": {
    model: ConfigMap,
    typeModule: "kubernetes-models/v1/ConfigMap",
    typeName: "IConfigMap",
  },
  "v1 Secret": { model: Secret, typeModule: "kubernetes-models/v1/Secret", typeName: "ISecret" },
  "v1 Service": {
    model: Service,
    typeModule: "kubernetes-models/v1/Service",
    typeName: "IService",
  },
  "v1 PersistentVolumeClaim": {
    model: PersistentVolumeClaim,
    typeModule: "kubernetes-models/v1/PersistentVolumeClaim",
    typeName: "IPersistentVolumeClaim",
  },
  "apps/v1 Deployment": {
    model: Deployment,
    typeModule: "kubernetes-models/apps/v1/Deployment",
    typeName: "IDeployment",
  },
  "batch/v1 CronJob": {
    model: CronJob,
    typeModule: "kubernetes-models/batch/v1/CronJob",
    typeName: "ICronJob",
  },
  "batch/v1 Job": { model: Job, typeModule: "kubernetes-models/batch/v1/Job", typeName: "IJob" },
  "networking.k8s.io/v1 Ingress": {
    model: Ingress,
    typeModule: "kubernetes-models/networking.k8s.io/v1/Ingress",
    typeName: "IIngress",
  },
  "networking.k8s.io/v1 NetworkPolicy": {
    model: NetworkPolicy,
    typeModule: "kubernetes-models/networking.k8s.io/v1/NetworkPolicy",
    typeName: "INetworkPolicy",
  },
  "autoscaling/v2 HorizontalPodAutoscaler": {
    model: HorizontalPodAutoscaler,
    typeModule: "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler",
    typeName: "IHorizontalPodAutoscaler",
  },
  "policy/v1 PodDisruptionBudget": {
    model: PodDisruptionBudget,
    typeModule: "kubernetes-models/policy/v1/PodDisruptionBudget",
    typeName: "IPodDisruptionBudget",
  },
  "kafka.strimzi.io/v1beta2 KafkaTopic": { typeModule: STRIMZI, typeName: "IKafkaTopic" },
};

/**
 * Validates one object against its schema.
 * @returns the problems found (empty when valid); an unknown apiVersion/kind is a problem
 */
export function validateObject(obj: K8sObject): string[] {
  const key = `${obj.apiVersion} ${obj.kind}`;
  const schema = SCHEMAS[key];
  if (!schema) return [`no schema for ${key}`];
  if (!schema.model) return validateKafkaTopic(obj);
  const { apiVersion: _a, kind: _k, ...data } = obj;
  try {
    new schema.model(structuredClone(data)).validate();
    return [];
  } catch (e) {
    return [(e as Error).message];
  }
}

/**
 * A TypeScript module that type-checks only if every object matches its interface exactly
 * (no unknown fields, right types). Run it with `deno check`.
 * @param objects rendered objects with known kinds
 */
export function typeCheckSource(objects: readonly K8sObject[]): string {
  const aliases = new Map<string, string>();
  const head: string[] = [];
  const body: string[] = [];
  objects.forEach((o, i) => {
    const schema = SCHEMAS[`${o.apiVersion} ${o.kind}`];
    if (!schema) throw new RangeError(`No schema for ${o.apiVersion} ${o.kind}`);
    let alias = aliases.get(schema.typeModule);
    if (alias === undefined) {
      alias = `T${aliases.size}`;
      aliases.set(schema.typeModule, alias);
      head.push(
        `import type { ${schema.typeName} as ${alias} } from ${JSON.stringify(schema.typeModule)};`,
      );
    }
    body.push(
      `// ${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`,
      `export const o${i}: ${alias} = ${JSON.stringify(o, null, 2)};`,
    );
  });
  return [...head, ...body].join("\n") + "\n";
}

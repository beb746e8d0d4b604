/**
 * @module
 * Cross-checks of a rendered deployment against itself and against the code: each function takes
 * rendered objects (plus facts read from the repository) and returns the problems it found, so a
 * test can assert both that the real manifests pass and that a broken copy is caught.
 */
import { CronExpressionParser } from "cron-parser";
import { type K8sObject, objectId, podSpecs } from "./kustomize.ts";

type Obj = Record<string, unknown>;

/** A container of a workload, with where it is. */
export interface ContainerRef {
  owner: K8sObject;
  pod: PodSpec;
  podLabels: Record<string, string>;
  container: Container;
}

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: Obj }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Obj;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

export interface Probe {
  httpGet?: { path?: string; port: number | string };
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; emptyDir?: Obj; persistentVolumeClaim?: { claimName: string } }[];
  securityContext?: Obj;
}

function labelsOf(meta: unknown): Record<string, string> {
  return ((meta as Obj | undefined)?.labels ?? {}) as Record<string, string>;
}

function podLabels(o: K8sObject): Record<string, string> {
  const spec = o.spec as Obj;
  if (o.kind === "CronJob") {
    return labelsOf(
      (((spec.jobTemplate as Obj).spec as Obj).template as Obj).metadata,
    );
  }
  return labelsOf((spec.template as Obj | undefined)?.metadata);
}

/** Every container of every workload. */
export function containers(objects: readonly K8sObject[]): ContainerRef[] {
  const out: ContainerRef[] = [];
  for (const owner of objects) {
    for (const pod of podSpecs(owner) as unknown as PodSpec[]) {
      for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
        out.push({ owner, pod, podLabels: podLabels(owner), container });
      }
    }
  }
  return out;
}

/** Objects of a kind. */
export function ofKind(objects: readonly K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

/** The single ConfigMap a deployment's containers load with envFrom. */
export function configData(
  objects: readonly K8sObject[],
  name = "edu-config",
): Record<string, string> {
  const cm = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === name);
  if (!cm) throw new RangeError(`No ConfigMap ${name}`);
  return (cm.data ?? {}) as Record<string, string>;
}

/**
 * Environment names a container gets (ConfigMap keys through envFrom, plus env entries).
 */
export function envNames(ref: ContainerRef, objects: readonly K8sObject[]): string[] {
  const names = new Set<string>();
  for (const f of ref.container.envFrom ?? []) {
    if (f.configMapRef) {
      for (const k of Object.keys(configData(objects, f.configMapRef.name))) names.add(k);
    }
  }
  for (const e of ref.container.env ?? []) names.add(e.name);
  return [...names];
}

/**
 * Env names must be read by the code (or by the Deno runtime, or by the container's own shell
 * command as `$NAME`), and the ConfigMap must define every name of CONTRACTS.md §1.
 * @param codeNames names the code reads
 * @param runtimeNames names read by the runtime itself (e.g. DENO_V8_FLAGS)
 * @param contractNames the names of CONTRACTS.md §1
 */
export function checkEnv(
  objects: readonly K8sObject[],
  codeNames: ReadonlySet<string>,
  runtimeNames: ReadonlySet<string>,
  contractNames: readonly string[],
): string[] {
  const errs: string[] = [];
  for (const ref of containers(objects)) {
    const shell = (ref.container.command ?? []).join(" ");
    for (const n of envNames(ref, objects)) {
      const usedByShell = new RegExp(`\\$\\{?${n}\\b`).test(shell);
      if (!codeNames.has(n) && !runtimeNames.has(n) && !usedByShell) {
        errs.push(
          `${objectId(ref.owner)} container ${ref.container.name}: env ${n} is read by nothing`,
        );
      }
    }
  }
  for (const cm of ofKind(objects, "ConfigMap")) {
    const keys = Object.keys((cm.data ?? {}) as Obj);
    for (const k of keys) {
      if (!codeNames.has(k)) errs.push(`${objectId(cm)}: key ${k} is not read by the code`);
    }
    for (const n of contractNames) {
      if (!keys.includes(n)) errs.push(`${objectId(cm)}: CONTRACTS.md §1 variable ${n} is missing`);
    }
  }
  return errs;
}

/**
 * The `deno task` a container runs, from its argv or its `sh -c` script; undefined if none.
 */
export function denoTask(c: Container): string | undefined {
  const argv = [...(c.command ?? []), ...(c.args ?? [])];
  if (argv[0] === "deno" && argv[1] === "task") return argv[2];
  if ((argv[0] === "sh" || argv[0] === "bash") && argv[1] === "-c") {
    const m = /^\s*(?:exec\s+)?deno\s+task\s+([A-Za-z0-9:_-]+)/.exec(argv[2] ?? "");
    return m?.[1];
  }
  return undefined;
}

/** Every container runs a `deno task` that deno.json defines. */
export function checkTasks(objects: readonly K8sObject[], tasks: ReadonlySet<string>): string[] {
  const errs: string[] = [];
  for (const ref of containers(objects)) {
    const t = denoTask(ref.container);
    if (t === undefined) {
      errs.push(`${objectId(ref.owner)}: container ${ref.container.name} runs no deno task`);
    } else if (!tasks.has(t)) {
      errs.push(`${objectId(ref.owner)}: "deno task ${t}" is not in deno.json`);
    }
  }
  return errs;
}

function containerPort(c: Container, port: number | string): number | undefined {
  const p = (c.ports ?? []).find((p) =>
    typeof port === "number" ? p.containerPort === port : p.name === port
  );
  return p?.containerPort;
}

/**
 * Probes target a declared container port and a path the code serves on that port.
 * @param served for each task, the port (from the ConfigMap variable the code binds) and paths
 */
export function checkProbes(
  objects: readonly K8sObject[],
  served: Readonly<Record<string, { port: number; paths: readonly string[] }>>,
): string[] {
  const errs: string[] = [];
  for (const ref of containers(objects)) {
    const c = ref.container;
    const where = `${objectId(ref.owner)} container ${c.name}`;
    const task = denoTask(c);
    for (const kind of ["startupProbe", "livenessProbe", "readinessProbe"] as const) {
      const get = c[kind]?.httpGet;
      if (!get) continue;
      const port = containerPort(c, get.port);
      if (port === undefined) {
        errs.push(`${where}: ${kind} port ${get.port} is not a container port`);
        continue;
      }
      const s = task === undefined ? undefined : served[task];
      if (!s) errs.push(`${where}: ${kind} on a task that serves no HTTP`);
      else if (s.port !== port) {
        errs.push(`${where}: ${kind} port ${port}, but the code listens on ${s.port}`);
      } else if (!s.paths.includes(get.path ?? "/")) {
        errs.push(`${where}: ${kind} path ${get.path} is not served (${s.paths.join(", ")})`);
      }
    }
  }
  return errs;
}

function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

/**
 * Selectors match pod template labels; Services, PDBs, HPAs, Ingresses and NetworkPolicies point at
 * things that exist; Service target ports and policy ports are container ports of selected pods.
 */
export function checkWiring(objects: readonly K8sObject[]): string[] {
  const errs: string[] = [];
  const refs = containers(objects);
  const sameNs = (a: K8sObject, b: K8sObject) => a.metadata.namespace === b.metadata.namespace;
  const podsOf = (o: K8sObject, sel: Record<string, string>) =>
    refs.filter((r) => sameNs(r.owner, o) && selects(sel, r.podLabels));
  for (const o of objects) {
    const spec = (o.spec ?? {}) as Obj;
    const id = objectId(o);
    if (["Deployment", "StatefulSet", "DaemonSet"].includes(o.kind)) {
      const sel = ((spec.selector as Obj)?.matchLabels ?? {}) as Record<string, string>;
      if (!selects(sel, podLabels(o))) errs.push(`${id}: selector does not match its pod template`);
    }
    if (o.kind === "Service") {
      const pods = podsOf(o, (spec.selector ?? {}) as Record<string, string>);
      if (pods.length === 0) errs.push(`${id}: selector matches no pods`);
      for (const p of (spec.ports ?? []) as { port: number; targetPort?: number | string }[]) {
        const target = p.targetPort ?? p.port;
        for (const ref of pods) {
          if (
            containerPort(ref.container, target) === undefined && ref.container.ports !== undefined
          ) {
            errs.push(`${id}: targetPort ${target} is not a port of ${objectId(ref.owner)}`);
          }
        }
        if (!pods.some((r) => containerPort(r.container, target) !== undefined)) {
          errs.push(`${id}: targetPort ${target} is exposed by no selected container`);
        }
      }
    }
    if (o.kind === "PodDisruptionBudget") {
      const sel = ((spec.selector as Obj)?.matchLabels ?? {}) as Record<string, string>;
      if (podsOf(o, sel).length === 0) errs.push(`${id}: selector matches no pods`);
    }
    if (o.kind === "HorizontalPodAutoscaler") {
      const t = spec.scaleTargetRef as { kind: string; name: string };
      if (!objects.some((x) => x.kind === t.kind && x.metadata.name === t.name && sameNs(x, o))) {
        errs.push(`${id}: scaleTargetRef ${t.kind}/${t.name} does not exist`);
      }
    }
    if (o.kind === "Ingress") {
      for (const rule of (spec.rules ?? []) as Obj[]) {
        for (const path of ((rule.http as Obj)?.paths ?? []) as Obj[]) {
          const svc = (path.backend as Obj).service as {
            name: string;
            port: { name?: string; number?: number };
          };
          const s = objects.find((x) =>
            x.kind === "Service" && x.metadata.name === svc.name && sameNs(x, o)
          );
          const ports = ((s?.spec as Obj | undefined)?.ports ?? []) as {
            name?: string;
            port: number;
          }[];
          if (!s) errs.push(`${id}: backend Service ${svc.name} does not exist`);
          else if (
            !ports.some((
              p,
            ) => (svc.port.name ? p.name === svc.port.name : p.port === svc.port.number))
          ) {
            errs.push(
              `${id}: backend port ${
                JSON.stringify(svc.port)
              } is not a port of Service ${svc.name}`,
            );
          }
        }
      }
    }
    if (o.kind === "NetworkPolicy") {
      const sel = ((spec.podSelector as Obj)?.matchLabels ?? {}) as Record<string, string>;
      if (Object.keys(sel).length === 0) continue;
      const pods = podsOf(o, sel);
      if (pods.length === 0) errs.push(`${id}: podSelector matches no pods`);
      for (const rule of (spec.ingress ?? []) as Obj[]) {
        for (const p of (rule.ports ?? []) as { port: number | string }[]) {
          if (!pods.some((r) => containerPort(r.container, p.port) !== undefined)) {
            errs.push(`${id}: ingress port ${p.port} is exposed by no selected container`);
          }
        }
      }
    }
  }
  return errs;
}

/**
 * Pods run as non-root with a read-only root filesystem, no privilege escalation, no capabilities,
 * requests and limits for cpu and memory, a writable /tmp, and mounts of declared volumes.
 */
export function checkPodSecurity(objects: readonly K8sObject[]): string[] {
  const errs: string[] = [];
  for (const ref of containers(objects)) {
    const c = ref.container;
    const where = `${objectId(ref.owner)} container ${c.name}`;
    const podSc = ref.pod.securityContext ?? {};
    const sc = c.securityContext ?? {};
    if (!(sc.runAsNonRoot ?? podSc.runAsNonRoot)) errs.push(`${where}: runAsNonRoot is not set`);
    const uid = (sc.runAsUser ?? podSc.runAsUser) as number | undefined;
    if (uid === undefined || uid === 0) errs.push(`${where}: runAsUser must be a non-zero uid`);
    if (sc.readOnlyRootFilesystem !== true) {
      errs.push(`${where}: readOnlyRootFilesystem is not true`);
    }
    if (sc.allowPrivilegeEscalation !== false) {
      errs.push(`${where}: allowPrivilegeEscalation is not false`);
    }
    const drop = ((sc.capabilities as Obj | undefined)?.drop ?? []) as string[];
    if (!drop.includes("ALL")) errs.push(`${where}: capabilities do not drop ALL`);
    for (const r of ["cpu", "memory"]) {
      if (!c.resources?.requests?.[r]) errs.push(`${where}: no ${r} request`);
      if (!c.resources?.limits?.[r]) errs.push(`${where}: no ${r} limit`);
    }
    const volumes = new Map((ref.pod.volumes ?? []).map((v) => [v.name, v]));
    for (const m of c.volumeMounts ?? []) {
      if (!volumes.has(m.name)) errs.push(`${where}: mount ${m.name} has no volume`);
    }
    const tmp = (c.volumeMounts ?? []).find((m) => m.mountPath === "/tmp");
    if (!tmp || !volumes.get(tmp.name)?.emptyDir) errs.push(`${where}: /tmp is not an emptyDir`);
  }
  return errs;
}

/**
 * Every CronJob schedule is a valid 5-field cron expression with an explicit time zone.
 * @returns problems, and the next run after `from` of each CronJob (for schedule assertions)
 */
export function checkSchedules(
  objects: readonly K8sObject[],
  from: Date,
): { errors: string[]; next: Record<string, string> } {
  const errors: string[] = [];
  const next: Record<string, string> = {};
  for (const o of ofKind(objects, "CronJob")) {
    const spec = o.spec as { schedule: string; timeZone?: string };
    if (spec.schedule.trim().split(/\s+/).length !== 5) {
      errors.push(`${objectId(o)}: schedule ${JSON.stringify(spec.schedule)} is not 5 fields`);
      continue;
    }
    if (!spec.timeZone) {
      errors.push(`${objectId(o)}: no timeZone (the controller's zone would apply)`);
    }
    try {
      const it = CronExpressionParser.parse(spec.schedule, {
        currentDate: from,
        tz: spec.timeZone ?? "UTC",
      });
      next[o.metadata.name] = it.next().toISOString()!;
    } catch (e) {
      errors.push(
        `${objectId(o)}: schedule ${JSON.stringify(spec.schedule)}: ${(e as Error).message}`,
      );
    }
  }
  return { errors, next };
}

/**
 * The Kubernetes manifests of infra/k8s, rendered offline (base, Kafka topics, dev and prod
 * overlays, backfill): schema validation with kubernetes-models, a strict type check against the
 * package's interfaces, and cross-checks against the code (env names, tasks, served paths and
 * ports, config resolution) and against themselves (selectors, ports, topics, security).
 * Every check also runs on a deliberately broken copy to show it can fail.
 */
import assert from "node:assert/strict";
import { resolveConfig, TOPIC_KEYS } from "../shared/config.ts";
import {
  checkEnv,
  checkPodSecurity,
  checkProbes,
  checkSchedules,
  checkTasks,
  checkWiring,
  configData,
  containers,
  denoTask,
  ofKind,
} from "../infra/k8s/checks.ts";
import {
  contractEnvNames,
  denoTasks,
  envNamesReadByCode,
  servedPaths,
} from "../infra/k8s/code_facts.ts";
import { type K8sObject, objectId, renderKustomization } from "../infra/k8s/kustomize.ts";
import { type IKafkaTopic, kafkaTopicName } from "../infra/k8s/strimzi.ts";
import { typeCheckSource, validateObject } from "../infra/k8s/validate.ts";
import { contractsText } from "./_contracts.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
/** Read by the Deno runtime itself, not by the code. */
const RUNTIME_ENV = new Set(["DENO_V8_FLAGS"]);
/** Secrets an environment creates out of band (docs/OPERATIONS.md "Secrets"). */
const EXTERNAL_SECRETS: Record<string, string[]> = { "overlays/prod": ["serving-tokens"] };

const RENDERS = ["base", "kafka", "overlays/dev", "overlays/prod", "backfill"] as const;
type Render = typeof RENDERS[number];
const rendered = new Map<Render, K8sObject[]>();
async function render(k: Render): Promise<K8sObject[]> {
  if (!rendered.has(k)) rendered.set(k, await renderKustomization(`${ROOT}/infra/k8s/${k}`));
  return structuredClone(rendered.get(k)!);
}
/** Overlays are what gets deployed: base + topics + environment. */
const DEPLOYED = ["overlays/dev", "overlays/prod"] as const;

function find(objs: K8sObject[], kind: string, name: string): K8sObject {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(o, `${kind} ${name} is rendered`);
  return o;
}

// deno-lint-ignore no-explicit-any
type Any = any;

Deno.test("every rendered object validates against its Kubernetes / Strimzi schema", async () => {
  for (const k of RENDERS) {
    const objs = await render(k);
    assert.ok(objs.length > 0, `${k} renders objects`);
    for (const o of objs) assert.deepEqual(validateObject(o), [], `${k}: ${objectId(o)}`);
  }
  const broken = find(await render("base"), "Deployment", "serving") as Any;
  broken.spec.template.spec.containers[0].ports[0].containerPort = "8000";
  assert.match(validateObject(broken).join(), /containerPort must be integer/);
  const topic = find(await render("kafka"), "KafkaTopic", "auth-topic") as Any;
  topic.spec.partitions = 0;
  topic.metadata.labels["strimzi.io/cluster"] = "other";
  assert.equal(validateObject(topic).length, 2);
  assert.deepEqual(validateObject({ apiVersion: "v9", kind: "Nope", metadata: { name: "x" } }), [
    "no schema for v9 Nope",
  ]);
});

async function denoCheck(source: string): Promise<{ ok: boolean; out: string }> {
  const dir = await Deno.makeTempDir({ prefix: "k8s_typecheck_" });
  try {
    const file = `${dir}/manifests.ts`;
    await Deno.writeTextFile(file, source);
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", "--config", `${ROOT}/deno.json`, file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { ok: r.success, out: new TextDecoder().decode(r.stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("every rendered object has no unknown or mistyped field (strict type check)", async () => {
  const all = (await Promise.all(RENDERS.map(render))).flat();
  const good = await denoCheck(typeCheckSource(all));
  assert.ok(good.ok, good.out);
  const dep = find(await render("base"), "Deployment", "speed-layer") as Any;
  dep.spec.template.spec.containers[0].readinesProbe =
    dep.spec.template.spec.containers[0].readinessProbe;
  const bad = await denoCheck(typeCheckSource([dep]));
  assert.equal(bad.ok, false);
  assert.match(bad.out, /readinesProbe/);
});

Deno.test("env names are exactly names the code reads and include every CONTRACTS.md §1 name", async () => {
  const code = await envNamesReadByCode(ROOT);
  const contract = contractEnvNames(await contractsText());
  assert.ok(contract.includes("KAFKA_BOOTSTRAP_SERVERS") && contract.includes("TOPIC_CDC"));
  for (const n of contract) assert.ok(code.has(n), `the code reads ${n}`);
  for (const k of RENDERS) {
    if (k === "kafka") continue;
    // The backfill Job runs in a release's namespace and loads that release's ConfigMap.
    const objs = k === "backfill"
      ? [...await render(k), find(await render("base"), "ConfigMap", "edu-config")]
      : await render(k);
    assert.deepEqual(checkEnv(objs, code, RUNTIME_ENV, contract), [], k);
  }
  const objs = await render("overlays/prod");
  (find(objs, "ConfigMap", "edu-config").data as Any).KAFKA_BOOTSTRAP_SERVER_LIST = "x";
  delete (find(objs, "ConfigMap", "edu-config").data as Any).HEALTH_PORT;
  const errs = checkEnv(objs, code, RUNTIME_ENV, contract);
  assert.ok(
    errs.some((e) => e.includes("KAFKA_BOOTSTRAP_SERVER_LIST is not read")),
    errs.join("\n"),
  );
  assert.ok(errs.some((e) => e.includes("HEALTH_PORT is missing")), errs.join("\n"));
});

Deno.test("each environment's ConfigMap and Secret resolve to a valid configuration", async () => {
  for (const k of DEPLOYED) {
    const objs = await render(k);
    const env: Record<string, string> = { ...configData(objs) };
    const secret = objs.find((o) => o.kind === "Secret" && o.metadata.name === "serving-tokens");
    env.SERVING_TOKENS = (secret?.stringData as Any)?.SERVING_TOKENS ?? "token-created-out-of-band";
    const cfg = resolveConfig(env);
    assert.equal(cfg.mode, k === "overlays/prod" ? "production" : "development");
    assert.deepEqual(cfg.kafkaBrokers, ["kafka-cluster-kafka-bootstrap.kafka.svc:9092"]);
    if (k === "overlays/prod") assert.ok(cfg.corsOrigins.length > 0, "prod names its CORS origins");
  }
});

Deno.test("containers run real deno tasks: process, serve, batch, migrate", async () => {
  const tasks = await denoTasks(ROOT);
  for (const k of RENDERS) assert.deepEqual(checkTasks(await render(k), tasks), [], k);
  const byOwner = Object.fromEntries(
    containers(await render("overlays/prod")).map((
      r,
    ) => [r.owner.metadata.name, denoTask(r.container)]),
  );
  assert.deepEqual(byOwner, {
    "speed-layer": "process",
    serving: "serve",
    "batch-hourly": "batch",
    "batch-daily": "batch",
    migrate: "migrate",
  });
  const objs = await render("base");
  (find(objs, "Job", "migrate") as Any).spec.template.spec.containers[0].command = [
    "deno",
    "task",
    "migrat",
  ];
  assert.deepEqual(checkTasks(objs, tasks), [
    `batch/v1 Job edu-platform/migrate: "deno task migrat" is not in deno.json`,
  ]);
});

Deno.test("probes hit the endpoints and ports the processors and the serving layer serve", async () => {
  const processors = await servedPaths(ROOT, "processors");
  const serving = await servedPaths(ROOT, "serving");
  for (const p of ["/health", "/metrics"]) {
    assert.ok(processors.includes(p), `processors route ${p}`);
  }
  for (const p of ["/health", "/ready", "/graphql"]) {
    assert.ok(serving.includes(p), `serving routes ${p}`);
  }
  for (const k of DEPLOYED) {
    const objs = await render(k);
    const cfg = resolveConfig({ ...configData(objs), SERVING_TOKENS: "t" });
    const served = {
      process: { port: cfg.healthPort, paths: processors },
      serve: { port: cfg.port, paths: serving },
    };
    assert.deepEqual(checkProbes(objs, served), [], k);
    const probed = containers(objs).flatMap((r) =>
      [r.container.livenessProbe, r.container.readinessProbe].map((p) =>
        `${denoTask(r.container)} ${p?.httpGet?.path}`
      )
    ).filter((s) => !s.endsWith("undefined"));
    assert.deepEqual(probed.sort(), [
      "process /health",
      "process /health",
      "serve /health",
      "serve /ready",
    ]);
    const broken = structuredClone(objs);
    (find(broken, "Deployment", "serving") as Any).spec.template.spec.containers[0].readinessProbe
      .httpGet.path = "/readyz";
    (find(broken, "Deployment", "speed-layer") as Any).spec.template.spec.containers[0].ports[0]
      .containerPort = 9998;
    const errs = checkProbes(broken, served);
    assert.ok(errs.some((e) => e.includes("/readyz is not served")), errs.join("\n"));
    assert.ok(
      errs.some((e) => e.includes("port 9998, but the code listens on 9999")),
      errs.join("\n"),
    );
  }
});

Deno.test("selectors, services, ingress, autoscaler, budgets and policies are wired to real pods and ports", async () => {
  for (const k of RENDERS) assert.deepEqual(checkWiring(await render(k)), [], k);
  const objs = await render("overlays/prod");
  (find(objs, "Service", "serving") as Any).spec.ports[0].targetPort = "web";
  (find(objs, "PodDisruptionBudget", "speed-layer") as Any).spec.selector.matchLabels.app = "speed";
  (find(objs, "Deployment", "speed-layer") as Any).spec.selector.matchLabels.tier = "x";
  (find(objs, "HorizontalPodAutoscaler", "serving") as Any).spec.scaleTargetRef.name = "serve";
  (find(objs, "NetworkPolicy", "allow-serving-ingress") as Any).spec.ingress[0].ports[0].port =
    8080;
  const errs = checkWiring(objs);
  for (
    const part of [
      "targetPort web",
      "speed-layer: selector matches no pods",
      "does not match its pod template",
      "Deployment/serve does not exist",
      "ingress port 8080",
    ]
  ) {
    assert.ok(errs.some((e) => e.includes(part)), `${part} caught in:\n${errs.join("\n")}`);
  }
});

Deno.test("pods are non-root with read-only root filesystems, a /tmp emptyDir and resources", async () => {
  for (const k of RENDERS) assert.deepEqual(checkPodSecurity(await render(k)), [], k);
  const objs = await render("base");
  const c =
    (find(objs, "CronJob", "batch-daily") as Any).spec.jobTemplate.spec.template.spec.containers[0];
  c.securityContext.readOnlyRootFilesystem = false;
  delete c.resources.limits.memory;
  c.volumeMounts = c.volumeMounts.filter((m: Any) => m.mountPath !== "/tmp");
  assert.equal(checkPodSecurity(objs).length, 3);
});

Deno.test("the speed layer is labelled app=speed-layer and has at most one replica per partition", async () => {
  for (const k of DEPLOYED) {
    const objs = await render(k);
    const cfg = resolveConfig({ ...configData(objs), SERVING_TOKENS: "t" });
    const dep = find(objs, "Deployment", "speed-layer") as Any;
    assert.equal(dep.metadata.labels.app, "speed-layer");
    assert.equal(dep.spec.template.metadata.labels.app, "speed-layer");
    assert.ok(
      dep.spec.replicas >= 1 && dep.spec.replicas <= cfg.topicPartitions,
      `${k}: replicas ≤ partitions`,
    );
    assert.ok(ofKind(objs, "PodDisruptionBudget").length >= 2);
  }
  const prod = find(await render("overlays/prod"), "Deployment", "speed-layer") as Any;
  assert.equal(prod.spec.replicas, 6, "prod runs one processor per partition");
});

Deno.test("KafkaTopics: every input topic, its .dlq and enriched_events, matching the ConfigMap", async () => {
  for (const k of DEPLOYED) {
    const objs = await render(k);
    const cfg = resolveConfig({ ...configData(objs), SERVING_TOKENS: "t" });
    const topics = ofKind(objs, "KafkaTopic") as unknown as IKafkaTopic[];
    const names = topics.map(kafkaTopicName).sort();
    const inputs = TOPIC_KEYS.map((key) => cfg.topics[key]);
    assert.deepEqual(
      names,
      [...inputs, ...inputs.map((t) => `${t}.dlq`), "enriched_events"].sort(),
    );
    for (const t of topics) {
      assert.equal(t.metadata.namespace, "kafka", "in the Strimzi cluster's namespace");
      assert.equal(t.metadata.labels?.["strimzi.io/cluster"], "kafka-cluster");
      assert.equal(
        t.spec.partitions,
        cfg.topicPartitions,
        `${kafkaTopicName(t)}: TOPIC_PARTITIONS`,
      );
      assert.equal(t.spec.replicas, k === "overlays/prod" ? 3 : 1);
    }
    const migrateEnv = Object.fromEntries(
      (find(objs, "Job", "migrate") as Any).spec.template.spec.containers[0].env.map((
        e: Any,
      ) => [e.name, e.value]),
    );
    for (const t of topics) {
      assert.equal(Number(migrateEnv.TOPIC_REPLICATION_FACTOR), t.spec.replicas, "same RF");
    }
    const [host] = cfg.kafkaBrokers[0].split(":");
    assert.equal(
      host,
      `${topics[0].metadata.labels!["strimzi.io/cluster"]}-kafka-bootstrap.kafka.svc`,
    );
  }
});

Deno.test("CronJobs: hourly and daily at 02:00 UTC, valid 5-field schedules with a time zone", async () => {
  const objs = await render("overlays/prod");
  const { errors, next } = checkSchedules(objs, new Date("2026-03-29T00:30:00Z"));
  assert.deepEqual(errors, []);
  assert.deepEqual(next, {
    "batch-hourly": "2026-03-29T01:15:00.000Z",
    "batch-daily": "2026-03-29T02:00:00.000Z",
  });
  (find(objs, "CronJob", "batch-hourly") as Any).spec.schedule = "61 * * * *";
  (find(objs, "CronJob", "batch-daily") as Any).spec.schedule = "0 0 2 * * *";
  assert.equal(checkSchedules(objs, new Date()).errors.length, 2);
});

async function runShell(script: string, env: Record<string, string>): Promise<string[]> {
  const dir = await Deno.makeTempDir({ prefix: "k8s_shell_" });
  try {
    // A stand-in `deno` that prints its arguments, so the real command line is observed.
    await Deno.writeTextFile(
      `${dir}/deno`,
      `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done\n`,
    );
    await Deno.chmod(`${dir}/deno`, 0o755);
    const out = await new Deno.Command("sh", {
      args: ["-c", script],
      env: { ...env, PATH: `${dir}:/usr/bin:/bin` },
      clearEnv: true,
      stdout: "piped",
    }).output();
    assert.ok(out.success, script);
    return new TextDecoder().decode(out.stdout).trimEnd().split("\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function shellOf(o: K8sObject): string {
  const pod = o.kind === "CronJob"
    ? (o.spec as Any).jobTemplate.spec.template.spec
    : (o.spec as Any).template.spec;
  const [sh, flag, script] = pod.containers[0].command;
  assert.deepEqual([sh, flag], ["sh", "-c"]);
  return script;
}

const hourOf = (ms: number) => new Date(ms).toISOString().slice(0, 13).replace("T", " ") + ":00";

Deno.test("batch commands expand to `deno task batch` with the previous hour, yesterday, and backfill days", async () => {
  const objs = await render("overlays/prod");
  const before = Date.now();
  const hourly = await runShell(shellOf(find(objs, "CronJob", "batch-hourly")), {});
  const daily = await runShell(shellOf(find(objs, "CronJob", "batch-daily")), {});
  const after = Date.now();
  assert.deepEqual(hourly.slice(0, 3), ["task", "batch", "--hour"]);
  assert.ok([hourOf(before - 3600_000), hourOf(after - 3600_000)].includes(hourly[3]), hourly[3]);
  assert.deepEqual(daily.slice(0, 3), ["task", "batch", "--date"]);
  const day = (ms: number) => new Date(ms - 86_400_000).toISOString().slice(0, 10);
  assert.ok([day(before), day(after)].includes(daily[3]), daily[3]);

  const job = find(await render("backfill"), "Job", "batch-backfill") as Any;
  assert.equal(job.spec.completionMode, "Indexed");
  const from =
    job.spec.template.spec.containers[0].env.find((e: Any) => e.name === "BACKFILL_FROM").value;
  const first = await runShell(shellOf(job), { BACKFILL_FROM: from, JOB_COMPLETION_INDEX: "0" });
  const last = await runShell(shellOf(job), {
    BACKFILL_FROM: from,
    JOB_COMPLETION_INDEX: String(job.spec.completions - 1),
  });
  assert.deepEqual(first, ["task", "batch", "--date", from]);
  const lastDay = new Date(
    Date.parse(`${from}T00:00:00Z`) + (job.spec.completions - 1) * 86_400_000,
  );
  assert.deepEqual(last, ["task", "batch", "--date", lastDay.toISOString().slice(0, 10)]);
});

Deno.test("DATA_DIR and OUTPUTS_DIR are on the ReadWriteMany volume; serving mounts it read-only", async () => {
  for (const k of DEPLOYED) {
    const objs = await render(k);
    const data = configData(objs);
    const pvc = find(objs, "PersistentVolumeClaim", "edu-data") as Any;
    assert.deepEqual(pvc.spec.accessModes, ["ReadWriteMany"]);
    for (const r of containers(objs)) {
      const task = denoTask(r.container);
      if (task === "migrate") continue;
      const vol = (r.pod.volumes ?? []).find((v) =>
        v.persistentVolumeClaim?.claimName === "edu-data"
      );
      assert.ok(vol, `${r.owner.metadata.name} mounts edu-data`);
      const mount = r.container.volumeMounts!.find((m) => m.name === vol.name)!;
      for (const dir of [data.DATA_DIR, data.OUTPUTS_DIR]) {
        assert.ok(dir.startsWith(`${mount.mountPath}/`));
      }
      assert.equal(
        mount.readOnly === true,
        task === "serve",
        `${r.owner.metadata.name} read-only iff serving`,
      );
    }
  }
  assert.equal(
    (find(await render("overlays/prod"), "PersistentVolumeClaim", "edu-data") as Any).spec
      .storageClassName,
    "efs-sc",
  );
});

Deno.test("secrets: referenced Secrets exist, except those created out of band and documented", async () => {
  const ops = await Deno.readTextFile(`${ROOT}/docs/OPERATIONS.md`);
  for (const k of DEPLOYED) {
    const objs = await render(k);
    const secrets = new Set(ofKind(objs, "Secret").map((s) => s.metadata.name));
    for (const r of containers(objs)) {
      for (const e of r.container.env ?? []) {
        const name = (e.valueFrom as Any)?.secretKeyRef?.name;
        if (!name) continue;
        const external = EXTERNAL_SECRETS[k]?.includes(name);
        assert.ok(secrets.has(name) || external, `${k}: Secret ${name} exists`);
        if (external) {
          assert.ok(
            ops.includes(`create secret generic ${name}`),
            `OPERATIONS.md shows how to create ${name}`,
          );
        }
      }
    }
  }
});

Deno.test("images: one image per environment, pinned in prod and the backfill runs the prod image", async () => {
  const imagesOf = async (k: Render) =>
    new Set(containers(await render(k)).map((r) => r.container.image));
  const prod = [...await imagesOf("overlays/prod")];
  assert.equal(prod.length, 1);
  assert.match(prod[0]!, /^[a-z0-9.-]+\/[a-z0-9/_-]+:\d+\.\d+\.\d+$/);
  assert.deepEqual([...await imagesOf("backfill")], prod);
  assert.deepEqual([...await imagesOf("overlays/dev")], ["edu-platform:dev"]);
});

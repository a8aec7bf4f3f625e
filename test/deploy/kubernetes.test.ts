import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parsePlan, resolveSecret, SECRET_REFERENCES_ENV } from '@shardbridge/plan';
import { freePort, pingOnce, startRedis, type RedisServer } from '@shardbridge/testkit';
import { startCli, type CliProcess } from '../support/cli-process.js';
import { environmentVariablesInCode, helpDefault, helpFlags } from './support/cli-surface.js';
import {
  containerEnvironment,
  containerOf,
  containersOf,
  dependentVariables,
  expandVariables,
  findObject,
  flagsOf,
  KUBERNETES_DIR,
  loadManifests,
  quantity,
  REPO_ROOT,
  secretValues,
  type Container,
  type K8sObject,
} from './support/manifests.js';

// Issue 17, item 4: deploy/kubernetes checked without a cluster. The manifests parse; what they pass to
// `shardbridge` (flags, variables) exists in the CLI; probes and ports match the coordinator; the queue Redis is
// durable and never evicts (on a real redis-server started with the StatefulSet's arguments); and the coordinator
// and a worker start with the manifests' own arguments and environment and answer as the probes expect.

/** Margin the grace period keeps above --shutdown-timeout: the kubelet's SIGKILL must come after the process exit. */
const GRACE_MARGIN_MS = 5_000;

/** docs/operations.md: a worker needs ~100 MB + concurrency × (16 MiB target window + bigKeyThreshold). */
const WORKER_BASE_BYTES = 100 * 1e6;
const TARGET_WINDOW_BYTES = 16 * 2 ** 20;
const DEFAULT_BIG_KEY_THRESHOLD_BYTES = 64 * 2 ** 20;

const manifests = loadManifests();
const objects = manifests.filter(({ object }) => object.kind !== 'Kustomization');
const secrets = secretValues(manifests);
const coordinatorDeployment = findObject(manifests, 'Deployment', 'shardbridge-coordinator');
const workerDeployment = findObject(manifests, 'Deployment', 'shardbridge-worker');
const queueStatefulSet = findObject(manifests, 'StatefulSet', 'shardbridge-queue');
const coordinator = containerOf(coordinatorDeployment, 'coordinator');
const worker = containerOf(workerDeployment, 'worker');
const queueContainer = containerOf(queueStatefulSet, 'redis');
const shardbridgeContainers: Array<[string, Container]> = [
  ['coordinator', coordinator],
  ['worker', worker],
];

/** A container's port, given by number or by the name of one of its ports. */
function containerPort(container: Container, port: number | string): number {
  if (typeof port === 'number') return port;
  const named = container.ports?.find((candidate) => candidate.name === port);
  if (!named) throw new Error(`container ${container.name} has no port named ${port}`);
  return named.containerPort;
}

function labelsMatch(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

function shutdownTimeoutOf(container: Container): number {
  const value = flagsOf(container.args ?? []).get('--shutdown-timeout');
  return Number(typeof value === 'string' ? value : NaN);
}

describe('deploy/kubernetes', () => {
  it('every manifest parses, is listed by a kustomization, and carries the fields its kind requires', () => {
    const kinds = objects.map(({ object }) => `${object.kind}/${object.metadata.name}`).sort();
    expect(kinds).toEqual(
      [
        'Deployment/shardbridge-coordinator',
        'Deployment/shardbridge-worker',
        'Namespace/shardbridge',
        'NetworkPolicy/shardbridge-queue',
        'ScaledObject/shardbridge-worker',
        'Secret/shardbridge-api',
        'Secret/shardbridge-queue',
        'Secret/shardbridge-sync',
        'Service/shardbridge-coordinator',
        'Service/shardbridge-queue',
        'StatefulSet/shardbridge-queue',
      ].sort(),
    );
    for (const { file, object } of objects) {
      expect(object.apiVersion, file).toMatch(/^[a-z0-9.]*\/?v\d/);
      expect(object.metadata.name, file).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }

    // Every resource file is applied by a kustomization, except the example secrets (they hold placeholders); a
    // listed directory is a kustomization itself. Both entry points (the base, keda/) build on base/.
    const listed = new Set<string>();
    for (const { file, object } of manifests.filter(({ object }) => object.kind === 'Kustomization')) {
      for (const resource of object.resources as string[]) {
        const path = resolve(REPO_ROOT, dirname(file), resource);
        expect(existsSync(path), `${file} lists ${resource}`).toBe(true);
        if (!/\.ya?ml$/.test(path)) {
          expect(existsSync(join(path, 'kustomization.yaml')), `${file} lists ${resource}`).toBe(true);
        }
        listed.add(path);
      }
    }
    const files = new Set(objects.map(({ file }) => join(REPO_ROOT, file)));
    const unlisted = [...files]
      .filter((file) => !listed.has(file))
      .map((file) => file.slice(REPO_ROOT.length));
    expect(unlisted).toEqual(['deploy/kubernetes/secrets.example.yaml']);
    expect(listed.has(join(KUBERNETES_DIR, 'base')), 'the entry points build on base/').toBe(true);

    // Workloads select their own pods; Services select a workload's pods and forward to a port it has.
    const workloads = [coordinatorDeployment, workerDeployment, queueStatefulSet];
    for (const workload of workloads) {
      const selector = workload.spec.selector.matchLabels as Record<string, string>;
      expect(labelsMatch(selector, workload.spec.template.metadata.labels), workload.metadata.name).toBe(
        true,
      );
      for (const container of containersOf(workload)) {
        expect(container.image, `${workload.metadata.name}/${container.name}`).toBeTruthy();
      }
    }
    for (const service of objects.filter(({ object }) => object.kind === 'Service').map((m) => m.object)) {
      const target = workloads.find((workload) =>
        labelsMatch(service.spec.selector, workload.spec.template.metadata.labels),
      );
      expect(target, `Service ${service.metadata.name} selects a workload`).toBeDefined();
      for (const port of service.spec.ports as Array<{ targetPort: number | string }>) {
        expect(() => containerPort(containersOf(target!)[0]!, port.targetPort)).not.toThrow();
      }
    }
    expect(queueStatefulSet.spec.serviceName).toBe('shardbridge-queue');
    expect(queueStatefulSet.spec.volumeClaimTemplates[0].metadata.name).toBe(
      queueContainer.volumeMounts?.[0]?.name,
    );
  });

  it.each(shardbridgeContainers)(
    'the %s container passes only flags `shardbridge <command> --help` lists',
    async (_, container) => {
      expect(container.image).toBe('shardbridge');
      expect(container.command, 'the image entrypoint is the CLI').toBeUndefined();
      const [command, ...rest] = container.args ?? [];
      expect(command).toBe(container.name);
      const known = await helpFlags(command!);
      const unknown = [...flagsOf(rest).keys()].filter((flag) => !known.has(flag));
      expect(unknown, `not in shardbridge ${command} --help`).toEqual([]);
    },
  );

  it('every SHARDBRIDGE_* variable exists in the code, every $(NAME) is defined before its use, every secret key exists', () => {
    const inCode = environmentVariablesInCode();
    expect(inCode.has('SHARDBRIDGE_QUEUE'), 'the scan of the sources works').toBe(true);
    for (const { object } of objects.filter(({ object }) => object.spec?.template)) {
      for (const container of containersOf(object)) {
        const where = `${object.metadata.name}/${container.name}`;
        const defined: string[] = [];
        for (const variable of container.env ?? []) {
          if (variable.name.startsWith('SHARDBRIDGE_')) expect(inCode, where).toContain(variable.name);
          for (const name of dependentVariables(variable.value ?? '')) {
            expect(defined, `${where}: ${variable.name} uses $(${name})`).toContain(name);
          }
          const ref = variable.valueFrom?.secretKeyRef;
          if (ref) expect(secrets.get(ref.name), `${where}: ${ref.name}`).toHaveProperty([ref.key]);
          defined.push(variable.name);
        }
        for (const arg of container.args ?? []) {
          for (const name of dependentVariables(arg))
            expect(defined, `${where}: args use $(${name})`).toContain(name);
        }
      }
      for (const volume of object.spec.template.spec.volumes ?? []) {
        if (volume.secret) expect(secrets.has(volume.secret.secretName), volume.secret.secretName).toBe(true);
      }
    }
  });

  it("the coordinator's probes are /healthz and /readyz on the port it listens on, and its Service forwards there", async () => {
    const flags = flagsOf(coordinator.args ?? []);
    const port = Number(flags.get('--port') ?? (await helpDefault('coordinator', '--port')));
    expect(flags.get('--host'), 'listens beyond loopback, or the Service cannot reach it').toBe('0.0.0.0');
    expect(coordinator.ports?.map((p) => p.containerPort)).toEqual([port]);
    expect(coordinator.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(coordinator.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(containerPort(coordinator, coordinator.livenessProbe!.httpGet!.port)).toBe(port);
    expect(containerPort(coordinator, coordinator.readinessProbe!.httpGet!.port)).toBe(port);
    const service = findObject(manifests, 'Service', 'shardbridge-coordinator');
    expect(containerPort(coordinator, service.spec.ports[0].targetPort)).toBe(port);
    const annotations = coordinatorDeployment.spec.template.metadata.annotations as Record<string, string>;
    expect(Number(annotations['prometheus.io/port'])).toBe(port);
    expect(annotations['prometheus.io/path']).toBe('/metrics');
  });

  it('the worker and coordinator outlast their shutdown bound before SIGKILL; the worker fits the memory budget', async () => {
    for (const [name, container] of shardbridgeContainers) {
      const deployment = name === 'worker' ? workerDeployment : coordinatorDeployment;
      const bound = shutdownTimeoutOf(container) || Number(await helpDefault(name, '--shutdown-timeout'));
      expect(bound).toBeGreaterThan(0);
      expect(deployment.spec.template.spec.terminationGracePeriodSeconds * 1000, name).toBeGreaterThanOrEqual(
        bound + GRACE_MARGIN_MS,
      );
    }
    const concurrency = Number(flagsOf(worker.args ?? []).get('--concurrency'));
    expect(concurrency).toBeGreaterThan(0);
    const budget = WORKER_BASE_BYTES + concurrency * (TARGET_WINDOW_BYTES + DEFAULT_BIG_KEY_THRESHOLD_BYTES);
    expect(quantity(worker.resources!.requests!.memory!)).toBeGreaterThanOrEqual(budget);
    expect(quantity(worker.resources!.limits!.memory!)).toBeGreaterThanOrEqual(
      quantity(worker.resources!.requests!.memory!),
    );
  });

  it('the ScaledObject scales the worker Deployment on queued shard jobs, one worker per --concurrency of them', () => {
    const scaled = findObject(manifests, 'ScaledObject', 'shardbridge-worker');
    expect(scaled.spec.scaleTargetRef.name).toBe(workerDeployment.metadata.name);
    expect(scaled.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
    const [trigger] = scaled.spec.triggers;
    expect(trigger.type).toBe('prometheus');
    // The query itself is checked against a running coordinator's /metrics in grafana-dashboard.test.ts.
    expect(trigger.metadata.query).toMatch(/shardbridge_queue_jobs\{state=~"[^"]*\bwaiting\b[^"]*"\}/);
    expect(trigger.metadata.query).toMatch(/\bactive\b/);
    expect(Number(trigger.metadata.threshold)).toBe(Number(flagsOf(worker.args ?? []).get('--concurrency')));
  });

  it('the example plan validates and its secret references resolve in both pods, within SHARDBRIDGE_SECRET_REFERENCES', () => {
    const plan = parsePlan(JSON.parse(readFileSync(join(KUBERNETES_DIR, 'example-plan.json'), 'utf8')));
    const references = [plan.source, plan.target].map((side) =>
      'password' in side ? side.password : undefined,
    );
    expect(references.some((ref) => ref?.startsWith('env:'))).toBe(true);
    expect(references.some((ref) => ref?.startsWith('file:'))).toBe(true);
    const saved = { ...process.env };
    try {
      for (const [name, container] of shardbridgeContainers) {
        const env = containerEnvironment(container, secrets);
        for (const reference of references) {
          if (reference === undefined) continue;
          if (reference.startsWith('file:')) {
            const path = reference.slice('file:'.length);
            const mount = container.volumeMounts?.find((m) => path.startsWith(`${m.mountPath}/`));
            expect(mount, `${name}: ${reference} lies in a mounted Secret`).toBeDefined();
            const deployment = name === 'worker' ? workerDeployment : coordinatorDeployment;
            const volume = deployment.spec.template.spec.volumes.find(
              (v: { name: string }) => v.name === mount!.name,
            );
            expect(secrets.get(volume.secret.secretName), reference).toHaveProperty([
              path.slice(mount!.mountPath.length + 1),
            ]);
          }
          // The pod's allowlist must admit it: resolveSecret refuses with PLAN_SECRET_NOT_ALLOWED otherwise.
          process.env = { ...env };
          expect(env[SECRET_REFERENCES_ENV], name).toBeTruthy();
          let code: string | undefined;
          try {
            resolveSecret(reference, 'password');
          } catch (error) {
            code = (error as { code?: string }).code;
          }
          if (reference.startsWith('env:')) expect(code, `${name}: ${reference}`).toBeUndefined();
          else expect(code, `${name}: ${reference}`).not.toBe('PLAN_SECRET_NOT_ALLOWED');
        }
      }
    } finally {
      process.env = saved;
    }
  });
});

/** `kubectl` answers offline (`kubectl kustomize` needs no cluster); not every machine has it. */
const kubectlAvailable = spawnSync('kubectl', ['version', '--client'], { timeout: 30_000 }).status === 0;

describe.skipIf(!kubectlAvailable)('deploy/kubernetes through kubectl kustomize', () => {
  it.each([
    ['deploy/kubernetes', []],
    ['deploy/kubernetes/keda', ['ScaledObject/shardbridge-worker']],
  ])('%s builds, every object in namespace shardbridge, with the image set', (dir, extra) => {
    const built = spawnSync('kubectl', ['kustomize', join(REPO_ROOT, dir)], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(built.status, built.stderr).toBe(0);
    const objects = parseAllDocuments(built.stdout).map((document) => document.toJS() as K8sObject);
    expect(objects.map((object) => `${object.kind}/${object.metadata.name}`).sort()).toEqual(
      [
        'Deployment/shardbridge-coordinator',
        'Deployment/shardbridge-worker',
        'Namespace/shardbridge',
        'NetworkPolicy/shardbridge-queue',
        'Service/shardbridge-coordinator',
        'Service/shardbridge-queue',
        'StatefulSet/shardbridge-queue',
        ...extra,
      ].sort(),
    );
    for (const object of objects.filter((candidate) => candidate.kind !== 'Namespace')) {
      expect(object.metadata.namespace, `${object.kind}/${object.metadata.name}`).toBe('shardbridge');
    }
    for (const name of ['shardbridge-coordinator', 'shardbridge-worker']) {
      const images = containersOf(
        objects.find((object) => object.metadata.name === name && object.kind === 'Deployment')!,
      ).map((c) => c.image);
      expect(images, name).toEqual(['registry.example.com/shardbridge:0.1.0']);
    }
  });
});

describe('deploy/kubernetes run for real', () => {
  let queue: RedisServer;
  const running: CliProcess[] = [];

  /** Waits for `pattern` in the output; a process that exits first fails at once with its stderr. */
  const started = (cli: CliProcess, pattern: RegExp) =>
    Promise.race([
      cli.waitFor(pattern),
      cli.exited.then((code) => {
        throw new Error(`exited ${code} before printing ${pattern}:\n${cli.stderr()}`);
      }),
    ]);

  /** The container's env as Kubernetes would build it, with the queue Service's address pointing at `queue`. */
  const podEnvironment = (container: Container): Record<string, string> => {
    const env = containerEnvironment(container, secrets);
    env.SHARDBRIDGE_QUEUE = env.SHARDBRIDGE_QUEUE!.replace(
      'shardbridge-queue:6379',
      `${queue.host}:${queue.port}`,
    );
    return env;
  };
  const podArgs = (container: Container, env: Record<string, string>) =>
    (container.args ?? []).map((arg) => expandVariables(arg, env));

  beforeAll(async () => {
    // The StatefulSet's own redis-server arguments; only its data directory is the testkit's.
    const env = containerEnvironment(queueContainer, secrets);
    const args = podArgs(queueContainer, env);
    const dirAt = args.indexOf('--dir');
    if (dirAt >= 0) args.splice(dirAt, 2);
    queue = await startRedis({ args, password: env.QUEUE_PASSWORD });
  });

  afterAll(async () => {
    for (const cli of running) if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    await queue?.stop();
  });

  it('the queue Redis runs with appendonly yes, noeviction and a password', async () => {
    expect(queueContainer.command).toEqual(['redis-server']);
    const client = queue.client();
    expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    const [, maxmemory] = (await client.config('GET', 'maxmemory')) as string[];
    expect(Number(maxmemory)).toBeGreaterThan(0);
    expect(await client.config('GET', 'appendfsync')).toEqual(['appendfsync', 'everysec']);
    expect(await client.config('GET', 'save')).toEqual(['save', '300 1']);
    expect(await pingOnce(queue.host, queue.port, {}, 5_000)).toMatch(/^-NOAUTH/);
    // The probes authenticate through REDISCLI_AUTH, the same password.
    expect(containerEnvironment(queueContainer, secrets).REDISCLI_AUTH).toBe(queue.password);
    expect(queueContainer.readinessProbe?.exec?.command).toEqual(['redis-cli', 'ping']);
  });

  it('the coordinator starts with its args and env, its probe paths answer 200, SIGTERM stops it within its bound', async () => {
    const env = podEnvironment(coordinator);
    const port = await freePort();
    // Loopback and a free port on this machine; everything else as in the manifest.
    const args = podArgs(coordinator, env).map((arg, i, all) =>
      all[i - 1] === '--host' ? '127.0.0.1' : all[i - 1] === '--port' ? String(port) : arg,
    );
    const cli = startCli(args, env);
    running.push(cli);
    await started(cli, /coordinator listening on/);
    for (const probe of [coordinator.livenessProbe!, coordinator.readinessProbe!]) {
      const answer = await fetch(`http://127.0.0.1:${port}${probe.httpGet!.path}`, {
        signal: AbortSignal.timeout(30_000),
      });
      expect(answer.status, probe.httpGet!.path).toBe(200);
    }
    const unauthenticated = await fetch(`http://127.0.0.1:${port}/v1/plans`, {
      signal: AbortSignal.timeout(30_000),
    });
    expect(unauthenticated.status, 'the API token from the Secret is in force').toBe(401);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
  });

  it('a worker starts with its args and env and exits 0 on SIGTERM', async () => {
    const env = podEnvironment(worker);
    const cli = startCli(podArgs(worker, env), env);
    running.push(cli);
    await started(cli, /worker ready/);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expect(cli.stderr()).not.toMatch(/\n\s+at /);
  });
});

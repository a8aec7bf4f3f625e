import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const KUBERNETES_DIR = join(REPO_ROOT, 'deploy', 'kubernetes');

/** One Kubernetes object as written in a manifest; the suites read the fields they assert. */
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
} & Record<
  string,
  any // eslint-disable-line @typescript-eslint/no-explicit-any
>;

/** A parsed object with the file it came from (relative to the repository), for failure messages. */
export interface ManifestObject {
  file: string;
  object: K8sObject;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(entry.name) ? [path] : [];
  });
}

/**
 * Every YAML document under deploy/kubernetes, parsed strictly: a syntax error, a duplicate key or an empty
 * document throws naming the file.
 */
export function loadManifests(dir = KUBERNETES_DIR): ManifestObject[] {
  return yamlFiles(dir).flatMap((path) => {
    const file = relative(REPO_ROOT, path);
    return parseAllDocuments(readFileSync(path, 'utf8'), { uniqueKeys: true }).map((document, index) => {
      if (document.errors.length > 0) {
        throw new Error(
          `${file} (document ${index + 1}): ${document.errors.map((e) => e.message).join('; ')}`,
        );
      }
      const object = document.toJS() as K8sObject | null;
      if (object === null || typeof object !== 'object')
        throw new Error(`${file}: document ${index + 1} is empty`);
      return { file, object };
    });
  });
}

/** The one object of `kind` named `name`; throws when there is none or more than one. */
export function findObject(objects: ManifestObject[], kind: string, name: string): K8sObject {
  const found = objects.filter(({ object }) => object.kind === kind && object.metadata?.name === name);
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name}, found ${found.length}`);
  return found[0]!.object;
}

/** A container's `env` entry. */
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}

/** A container of a pod template. */
export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: Array<{ name?: string; containerPort: number }>;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

export interface Probe {
  httpGet?: { path: string; port: number | string };
  exec?: { command: string[] };
}

/** The containers of a Deployment's or StatefulSet's pod template. */
export function containersOf(workload: K8sObject): Container[] {
  return workload.spec.template.spec.containers as Container[];
}

/** The one container named `name` of a workload. */
export function containerOf(workload: K8sObject, name: string): Container {
  const container = containersOf(workload).find((candidate) => candidate.name === name);
  if (!container) throw new Error(`${workload.kind} ${workload.metadata.name} has no container ${name}`);
  return container;
}

/** `--flag value` pairs and bare `--flag`s of an argument list (a value is the next argument not starting with --). */
export function flagsOf(args: readonly string[]): Map<string, string | true> {
  const flags = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) continue;
    const next = args[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      flags.set(arg, next);
      i++;
    } else {
      flags.set(arg, true);
    }
  }
  return flags;
}

/** Kubernetes' quantity (`512Mi`, `1G`, `500m`) in bytes or cores. */
export function quantity(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|K|M|G|T|m)?$/.exec(text);
  if (!match) throw new Error(`not a Kubernetes quantity: ${text}`);
  const factors: Record<string, number> = {
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    k: 1e3,
    K: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    m: 1e-3,
  };
  return Number(match[1]) * (match[2] ? factors[match[2]]! : 1);
}

/** `$(NAME)` references in a value, which Kubernetes expands from the container's env. */
export function dependentVariables(value: string): string[] {
  return [...value.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)].map((match) => match[1]!);
}

/** `secret name -> key -> value` of the Secrets among `objects` (their `stringData`). */
export function secretValues(objects: ManifestObject[]): Map<string, Record<string, string>> {
  return new Map(
    objects
      .filter(({ object }) => object.kind === 'Secret')
      .map(({ object }) => [object.metadata.name, (object.stringData ?? {}) as Record<string, string>]),
  );
}

/**
 * A container's environment as Kubernetes builds it: `secretKeyRef`s read from `secrets`, and `$(NAME)` expanded
 * only from variables defined earlier in the list (a later or unknown one stays as written, as in Kubernetes).
 */
export function containerEnvironment(
  container: Container,
  secrets: Map<string, Record<string, string>>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef;
    if (ref) {
      const value = secrets.get(ref.name)?.[ref.key];
      if (value === undefined) throw new Error(`${variable.name}: no key ${ref.key} in Secret ${ref.name}`);
      env[variable.name] = value;
    } else {
      env[variable.name] = expandVariables(variable.value ?? '', env);
    }
  }
  return env;
}

/** `$(NAME)` replaced from `env`; unknown names stay as written. */
export function expandVariables(value: string, env: Record<string, string>): string {
  return value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => env[name] ?? whole);
}

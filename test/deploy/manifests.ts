// The deployment files, read once and parsed through schemas of the parts the tests look at
// (extra fields are allowed: these are not full Kubernetes or compose schemas).
import path from 'node:path';
import { GatewayConfigSchema } from '@squeezegate/shared';
import { z } from 'zod';
import { repoRoot } from '../support/env.ts';
import {
  deployDir,
  interpolate,
  parseDockerfile,
  parseEnvFile,
  readRepoFile,
  readYaml,
  readYamlDocuments,
  type Stage,
} from './deploy-files.ts';

/** The port the gateway listens on unless told otherwise. */
export const DEFAULT_PORT = GatewayConfigSchema.shape.port.parse(undefined);
/** How every secret in deploy/ starts, so that a real one stands out. */
export const PLACEHOLDER = /^REPLACE-ME-/;

export const Labels = z.record(z.string(), z.string());
export const K8sObject = z.looseObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  metadata: z.looseObject({ name: z.string().min(1), labels: Labels.optional() }),
});
export const Probe = z.looseObject({
  httpGet: z.looseObject({ path: z.string(), port: z.union([z.string(), z.number()]) }),
});
export const Container = z.looseObject({
  name: z.string(),
  image: z.string(),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  ports: z.array(z.looseObject({ name: z.string().optional(), containerPort: z.number() })).optional(),
  livenessProbe: Probe.optional(),
  readinessProbe: Probe.optional(),
  startupProbe: Probe.optional(),
  envFrom: z.array(z.looseObject({ secretRef: z.looseObject({ name: z.string() }) })).optional(),
  volumeMounts: z.array(z.looseObject({ name: z.string(), mountPath: z.string() })).optional(),
  resources: z.looseObject({ requests: Labels.optional(), limits: Labels.optional() }),
});
export const Deployment = K8sObject.extend({
  spec: z.looseObject({
    selector: z.looseObject({ matchLabels: Labels }),
    template: z.looseObject({
      metadata: z.looseObject({ labels: Labels }),
      spec: z.looseObject({
        securityContext: z.looseObject({ runAsNonRoot: z.literal(true), runAsUser: z.number() }),
        initContainers: z.array(Container).optional(),
        containers: z.array(Container).min(1),
        volumes: z.array(
          z.looseObject({ name: z.string(), configMap: z.looseObject({ name: z.string() }).optional() }),
        ),
      }),
    }),
  }),
});
export const Service = K8sObject.extend({
  spec: z.looseObject({
    selector: Labels,
    ports: z.array(z.looseObject({ port: z.number(), targetPort: z.union([z.string(), z.number()]) })).min(1),
  }),
});
export const Hpa = K8sObject.extend({
  spec: z.looseObject({
    scaleTargetRef: z.looseObject({ apiVersion: z.string(), kind: z.string(), name: z.string() }),
    minReplicas: z.number(),
    maxReplicas: z.number(),
    metrics: z.array(
      z.looseObject({ type: z.string(), resource: z.looseObject({ name: z.string() }).optional() }),
    ),
  }),
});
export const ConfigMap = K8sObject.extend({ data: Labels });
export const Secret = K8sObject.extend({ stringData: Labels });
export const Kustomization = K8sObject.extend({
  resources: z.array(z.string()),
  images: z.array(z.looseObject({ name: z.string() })).optional(),
});
export const ComposeService = z.looseObject({
  build: z.looseObject({ context: z.string(), dockerfile: z.string() }).optional(),
  image: z.string(),
  command: z.array(z.string()).optional(),
  environment: Labels.optional(),
  ports: z.array(z.string()).optional(),
  volumes: z.array(z.string()).optional(),
  healthcheck: z.looseObject({ test: z.array(z.string()) }).optional(),
  depends_on: z.record(z.string(), z.looseObject({ condition: z.string() })).optional(),
  profiles: z.array(z.string()).optional(),
});
export const Compose = z.looseObject({ services: z.record(z.string(), ComposeService) });

export const K8S = path.join(deployDir, 'k8s');
export const kustomization = Kustomization.parse(readYaml('deploy/k8s/kustomization.yaml'));
export const k8sDocs = kustomization.resources.flatMap((f) => readYamlDocuments(path.join('deploy/k8s', f)));
/** The one manifest of a kind, through its schema. */
export function byKind<T extends z.ZodType>(kind: string, schema: T): z.infer<T> {
  const found = k8sDocs.filter((d) => K8sObject.parse(d).kind === kind);
  if (found.length !== 1) throw new Error(`deploy/k8s: expected one ${kind}, found ${found.length}`);
  return schema.parse(found[0]);
}
export const deployment = byKind('Deployment', Deployment);
export const gatewayContainer = deployment.spec.template.spec.containers.find((c) => c.name === 'gateway')!;

/** A container port by number or by name. */
export function containerPort(port: string | number): number | undefined {
  return typeof port === 'number'
    ? gatewayContainer.ports?.find((p) => p.containerPort === port)?.containerPort
    : gatewayContainer.ports?.find((p) => p.name === port)?.containerPort;
}

export const compose = Compose.parse(readYaml('deploy/compose/compose.yaml'));
export const COMPOSE_DIR = path.join(deployDir, 'compose');
export const composeEnv = parseEnvFile(readRepoFile('deploy/compose/.env.example'));
/** A service's volumes as bind mounts, sources relative to the repository root. */
export const bindMounts = (s: z.infer<typeof ComposeService>) =>
  (s.volumes ?? []).map((v) => {
    const [source = '', target = ''] = interpolate(v, composeEnv).split(':');
    return { source: path.relative(repoRoot, path.resolve(COMPOSE_DIR, source)), target };
  });

export const DOCKERFILES = {
  gateway: {
    file: 'deploy/docker/gateway.Dockerfile',
    workspace: '@squeezegate/gateway',
    exposes: [DEFAULT_PORT],
  },
  edge: { file: 'deploy/docker/edge.Dockerfile', workspace: '@squeezegate/edge', exposes: [] as number[] },
};
export const packageJson = (dir: string) =>
  JSON.parse(readRepoFile(path.join(dir, 'package.json'))) as {
    name: string;
    workspaces?: string[];
    exports?: Record<string, unknown>;
    bin?: Record<string, string>;
    dependencies?: Record<string, string>;
  };
export const workspaceDirs = packageJson('.').workspaces ?? [];
export const workspaceDir = (name: string) => workspaceDirs.find((d) => packageJson(d).name === name);

export function stagesOf(which: keyof typeof DOCKERFILES): Stage[] {
  return parseDockerfile(readRepoFile(DOCKERFILES[which].file));
}
export function finalStage(which: keyof typeof DOCKERFILES): Stage {
  return stagesOf(which).at(-1)!;
}

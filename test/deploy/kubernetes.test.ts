// deploy/k8s against the gateway: ports, probe routes, user, config and secret wiring.
import { spawnSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { GatewayConfigSchema } from '@squeezegate/shared';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { copiesOf, isFile, parseYamlDocuments, pathInStage } from './deploy-files.ts';
import {
  byKind,
  ConfigMap,
  containerPort,
  DEFAULT_PORT,
  deployment,
  finalStage,
  gatewayContainer,
  Hpa,
  K8S,
  K8sObject,
  k8sDocs,
  kustomization,
  Secret,
  Service,
  stagesOf,
} from './manifests.ts';

describe('Kubernetes manifests', () => {
  it('have apiVersion, kind and metadata.name; the kustomization lists exactly them', async () => {
    for (const doc of k8sDocs) K8sObject.parse(doc);
    const manifests = (await readdir(K8S)).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(manifests.sort());
    expect(k8sDocs.map((d) => K8sObject.parse(d).kind).sort()).toEqual(
      ['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'Namespace', 'Secret', 'Service'].sort(),
    );
  });

  it("probe /healthz and /readyz on the container port, the gateway's default port", () => {
    expect(gatewayContainer.ports?.map((p) => p.containerPort)).toEqual([DEFAULT_PORT]);
    const { livenessProbe, readinessProbe, startupProbe } = gatewayContainer;
    expect(livenessProbe?.httpGet.path).toBe('/healthz');
    expect(readinessProbe?.httpGet.path).toBe('/readyz');
    expect(startupProbe?.httpGet.path).toBe('/healthz');
    for (const probe of [livenessProbe, readinessProbe, startupProbe]) {
      expect(containerPort(probe!.httpGet.port)).toBe(DEFAULT_PORT);
    }
    const config = byKind('ConfigMap', ConfigMap).data['gateway.yaml']!;
    expect(GatewayConfigSchema.parse(parseYaml(config)).port).toBe(DEFAULT_PORT);
  });

  it('run as the image user, with the ConfigMap, Secret, model fetch and image wired up', () => {
    const pod = deployment.spec.template.spec;
    const imageUser = finalStage('gateway').instructions.findLast((i) => i.keyword === 'USER')!.args;
    expect(String(pod.securityContext.runAsUser)).toBe(imageUser.split(':')[0]);
    expect(gatewayContainer.resources.requests?.cpu, 'the HPA needs a CPU request').toBeDefined();

    const configMap = byKind('ConfigMap', ConfigMap);
    const configArg = gatewayContainer.args?.[gatewayContainer.args.indexOf('--config') + 1] ?? '';
    const volume = pod.volumes.find((v) => v.configMap?.name === configMap.metadata.name)!;
    const mount = gatewayContainer.volumeMounts?.find((m) => m.name === volume.name);
    expect(path.posix.dirname(configArg)).toBe(mount?.mountPath);
    expect(Object.keys(configMap.data)).toContain(path.posix.basename(configArg));
    expect(gatewayContainer.envFrom?.map((e) => e.secretRef.name)).toEqual([
      byKind('Secret', Secret).metadata.name,
    ]);

    // The init container runs a compiled script of the repository that is in the image: its
    // source is compiled in the build stage, whose dist/ the final stage copies.
    const fetch = pod.initContainers?.find((c) => c.name === 'fetch-models');
    const script = fetch?.command?.find((a) => a.endsWith('.js')) ?? '';
    const [pkgDir, rest] = script.split('/dist/') as [string, string];
    const source = `${pkgDir}/src/${rest.replace(/\.js$/, '.ts')}`;
    expect(isFile(source), source).toBe(true);
    const stages = stagesOf('gateway');
    expect(pathInStage(stages, stages.find((s) => s.name === 'build')!, source)).toBe(`/app/${source}`);
    const dist = copiesOf(finalStage('gateway')).find((c) => c.sources.includes(`/app/${pkgDir}/dist`));
    expect(dist?.dest).toBe(`/app/${pkgDir}/dist`);
    const images = (kustomization.images ?? []).map((i) => i.name);
    for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
      expect(images).toContain(c.image.split(':')[0]);
    }
  });

  it('Service selects the pods and targets the container port', () => {
    const service = byKind('Service', Service);
    expect(deployment.spec.template.metadata.labels).toMatchObject(service.spec.selector);
    expect(deployment.spec.template.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
    const [port] = service.spec.ports;
    expect(port?.port).toBe(DEFAULT_PORT);
    expect(containerPort(port!.targetPort)).toBe(DEFAULT_PORT);
  });

  it('HPA scales the Deployment by name on CPU', () => {
    const hpa = byKind('HorizontalPodAutoscaler', Hpa);
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual({
      apiVersion: deployment.apiVersion,
      kind: 'Deployment',
      name: deployment.metadata.name,
    });
    expect(hpa.spec.metrics.map((m) => m.resource?.name)).toEqual(['cpu']);
    expect(hpa.spec.minReplicas).toBeLessThanOrEqual(hpa.spec.maxReplicas);
  });

  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!kubectl)('render with kubectl kustomize into one namespace', () => {
    const out = spawnSync('kubectl', ['kustomize', K8S], { encoding: 'utf8' });
    expect(out.status, out.stderr).toBe(0);
    const rendered = parseYamlDocuments(out.stdout, 'kubectl kustomize').map((d) => K8sObject.parse(d));
    expect(rendered).toHaveLength(k8sDocs.length);
    for (const doc of rendered.filter((d) => d.kind !== 'Namespace')) {
      expect(doc.metadata.namespace, doc.kind).toBe('squeezegate');
    }
  });
});

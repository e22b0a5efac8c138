import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { IContainer, IVolume } from 'kubernetes-models/v1';
import { MAIN, REPO } from './harness.js';
import { VERSION } from './packaging.js';

const DIR = path.join(REPO, 'deploy/kubernetes');
/** The schema of every kind the directory may hold (kubernetes-models, prometheus-operator's CRDs). */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/DaemonSet': DaemonSet,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

interface Manifest {
  readonly file: string;
  readonly doc: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } } & Record<string, unknown>;
}
function manifests(): Manifest[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((file) =>
      parseAllDocuments(readFileSync(path.join(DIR, file), 'utf8')).map((d) => {
        expect(d.errors, file).toEqual([]);
        return { file, doc: d.toJS() as Manifest['doc'] };
      }),
    );
}
const find = <T>(kind: string, name: string) => manifests().find((m) => m.doc.kind === kind && m.doc.metadata.name === name)?.doc as T;

function validationError(doc: Manifest['doc']): string | null {
  const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
  if (!Model) return `no schema known for ${doc.apiVersion} ${doc.kind}`;
  try {
    new Model(doc as never).validate();
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

interface DaemonSetDoc {
  spec: {
    template: { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> & { containers: IContainer[]; volumes: IVolume[] } };
  } & Record<string, unknown>;
}

describe('deploy/kubernetes', () => {
  it('every manifest validates against its schema, in the namespace cocos', () => {
    const all = manifests();
    expect(all.map((m) => m.doc.kind).sort()).toEqual(['ConfigMap', 'ConfigMap', 'DaemonSet', 'Namespace', 'PrometheusRule', 'Service', 'ServiceMonitor']);
    for (const { file, doc } of all) {
      expect(validationError(doc), `${file}: ${doc.kind} ${doc.metadata.name}`).toBeNull();
      if (doc.kind !== 'Namespace') expect(doc.metadata.namespace, `${file}: ${doc.kind} ${doc.metadata.name}`).toBe('cocos');
    }
    // The validator does catch a broken manifest.
    const ds = structuredClone(find<Manifest['doc']>('DaemonSet', 'cocos-manager'));
    (ds as unknown as DaemonSetDoc).spec.template.spec['hostNetwork'] = 'yes';
    expect(validationError(ds)).toMatch(/hostNetwork must be boolean/);
  });

  it('the DaemonSet runs on SEV-SNP or TDX nodes, with the devices, host paths, probes and settings a manager needs', async () => {
    const ds = find<DaemonSetDoc>('DaemonSet', 'cocos-manager');
    const pod = ds.spec.template.spec;
    const terms = (pod['affinity'] as { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: unknown[] } } }).nodeAffinity
      .requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
    // Either label suffices: one term each (terms are ORed, expressions within one ANDed).
    expect(terms).toEqual([
      { matchExpressions: [{ key: 'feature.node.kubernetes.io/cpu-security.sev.snp.enabled', operator: 'In', values: ['true'] }] },
      { matchExpressions: [{ key: 'feature.node.kubernetes.io/cpu-security.tdx.enabled', operator: 'In', values: ['true'] }] },
    ]);
    expect([pod['hostNetwork'], pod['hostPID']]).toEqual([true, true]);
    const [manager] = pod.containers;
    expect(manager!.image).toBe(`registry.example.com/cocos/cocos-manager:${VERSION}`);
    expect(manager!.securityContext?.privileged).toBe(true);

    // A path in the container is the same path on the host (QEMU, on the host, and the manager name the same files).
    const hostPathOf = (containerPath: string): string | undefined => {
      const mount = manager!.volumeMounts?.find((m) => containerPath === m.mountPath || containerPath.startsWith(`${m.mountPath}/`));
      const volume = pod.volumes.find((v) => v.name === mount?.name);
      return volume?.hostPath ? path.join(volume.hostPath.path, path.relative(mount!.mountPath, containerPath)) : undefined;
    };
    for (const device of ['/dev/kvm', '/dev/sev', '/dev/vhost-vsock', '/dev/vfio/vfio']) expect(hostPathOf(device), device).toBe(device);
    const env = Object.fromEntries((manager!.env ?? []).map((e) => [e.name, e.value]));
    const settings = find<{ data: Record<string, string> }>('ConfigMap', 'cocos-manager-env').data;
    for (const dir of [env['MANAGER_STATE_DIR']!, env['MANAGER_RUN_DIR']!]) expect(hostPathOf(dir), dir).toBe(dir);
    for (const [name, value] of Object.entries(settings).filter(([n]) => n.endsWith('_FILE'))) expect(hostPathOf(value), name).toBe(value);

    // Every variable set is one this build knows (a misspelt one would be ignored silently).
    const reference = (await execa('node', [MAIN, 'config', '--reference'], { env: { PATH: process.env['PATH'] ?? '' }, extendEnv: false })).stdout;
    const known = new Set([...reference.matchAll(/^\| `([A-Z0-9_]+)`/gm)].map((m) => m[1]));
    const set = [...Object.keys(env).filter((n) => n.startsWith('MANAGER_')), ...Object.keys(settings)];
    expect(set.filter((n) => !known.has(n))).toEqual([]);
    expect(manager!.envFrom).toEqual([{ configMapRef: { name: 'cocos-manager-env' } }]);

    // The ports are the manager's defaults; the probes ask /health on the HTTP one.
    const template = readFileSync(path.join(REPO, 'init/systemd/cocos-manager.env'), 'utf8');
    const ports = Object.fromEntries((manager!.ports ?? []).map((p) => [p.name, String(p.containerPort)]));
    expect(ports).toEqual({ grpc: /^#MANAGER_GRPC_PORT=(\d+)$/m.exec(template)![1], http: /^#MANAGER_HTTP_PORT=(\d+)$/m.exec(template)![1] });
    for (const probe of [manager!.startupProbe, manager!.readinessProbe, manager!.livenessProbe])
      expect(probe?.httpGet).toEqual({ path: '/health', port: 'http' });
    expect(manager!.resources?.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(ds.spec['updateStrategy']).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } });

    // QEMU starts through the launcher, outside the pod, keeping its pid (exec all the way).
    const launcher = env['MANAGER_QEMU_BIN_PATH']!;
    const mount = manager!.volumeMounts!.find((m) => launcher.startsWith(`${m.mountPath}/`))!;
    const source = pod.volumes.find((v) => v.name === mount.name)!.configMap!.name!;
    const script = find<{ data: Record<string, string> }>('ConfigMap', source).data[path.basename(launcher)]!;
    expect(script).toMatch(/^#!\/bin\/sh\nexec nsenter --target 1 --mount -- systemd-run --scope .* -- qemu-system-x86_64 "\$@"\n$/);
    expect((await execa('sh', ['-n'], { input: script, reject: false })).exitCode).toBe(0);
  });

  it('the Service and ServiceMonitor scrape every manager as job cocos-manager; the PrometheusRule is the shipped alert rules', () => {
    const ds = find<DaemonSetDoc>('DaemonSet', 'cocos-manager');
    const service = find<Manifest['doc'] & { spec: { selector: Record<string, string>; ports: { name: string; targetPort: string }[] } }>(
      'Service',
      'cocos-manager',
    );
    expect(ds.spec.template.metadata.labels).toMatchObject(service.spec.selector);
    expect(service.spec.ports.find((p) => p.name === 'http')?.targetPort).toBe('http');
    const monitor = find<{ spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] } }>(
      'ServiceMonitor',
      'cocos-manager',
    );
    expect(service.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })]);

    const shipped = parse(readFileSync(path.join(REPO, 'deploy/prometheus/cocos-manager.rules.yml'), 'utf8')) as { groups: unknown[] };
    const rule = find<{ spec: { groups: unknown[] } }>('PrometheusRule', 'cocos-manager');
    expect(rule.spec.groups, 'regenerate with: node scripts/write-prometheus-rule.mjs').toEqual(shipped.groups);
    // The job the ServiceMonitor makes (the Service's name) is the one the rules watch.
    expect(JSON.stringify(shipped)).toContain(`up{job=\\"${service.metadata.name}\\"}`);
  });
});

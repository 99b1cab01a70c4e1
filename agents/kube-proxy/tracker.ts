// The change tracker: Service and EndpointSlice watch events in, the set of Services whose proxy
// state really changed out. Each event re-derives only its Service's ports and endpoints and
// compares them with what was derived before, so status-only updates, resyncs and slice churn that
// does not move an endpoint cost nothing downstream. No I/O.
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { portKey, servicePorts, sliceEndpoints, sliceService, type Endpoint, type ServicePort } from './model.ts';

export interface ServiceState {
  ports: ServicePort[];
  /** endpoints by portKey(portName, protocol) */
  endpoints: Map<string, Endpoint[]>;
}

export interface PortWithEndpoints {
  svc: ServicePort;
  endpoints: Endpoint[];
}

const EMPTY: Endpoint[] = [];

export class ChangeTracker {
  private services = new Map<string, ServicePort[]>();
  private slices = new Map<string, Map<string, V1EndpointSlice>>();
  private endpoints = new Map<string, Map<string, Endpoint[]>>();
  private signatures = new Map<string, string>();
  private pending = new Set<string>();
  /** endpoints.kubernetes.io/last-change-trigger-time of pending slice changes, for latency metrics */
  private triggers: number[] = [];
  serviceEvents = 0;
  sliceEvents = 0;

  constructor(readonly nodeName: string) {}

  /** Returns true when the Service's proxy state changed. Pass undefined to delete. */
  setService(key: string, svc: V1Service | undefined): boolean {
    this.serviceEvents++;
    const ports = svc ? servicePorts(svc) : [];
    if (ports.length) this.services.set(key, ports);
    else this.services.delete(key);
    return this.touch(key);
  }

  setSlice(slice: V1EndpointSlice, deleted = false): boolean {
    this.sliceEvents++;
    const svc = sliceService(slice);
    if (!svc) return false;
    let group = this.slices.get(svc);
    const name = slice.metadata?.name ?? '';
    if (deleted) group?.delete(name);
    else {
      if (!group) this.slices.set(svc, (group = new Map()));
      group.set(name, slice);
    }
    if (group && group.size === 0) this.slices.delete(svc);
    const eps = sliceEndpoints(this.slices.get(svc)?.values() ?? [], this.nodeName);
    if (eps.size) this.endpoints.set(svc, eps);
    else this.endpoints.delete(svc);
    const changed = this.touch(svc);
    const t = Date.parse(slice.metadata?.annotations?.['endpoints.kubernetes.io/last-change-trigger-time'] ?? '');
    if (changed && !Number.isNaN(t)) this.triggers.push(t);
    return changed;
  }

  private touch(svc: string): boolean {
    const sig = this.signature(svc);
    if ((this.signatures.get(svc) ?? '') === sig) return false;
    if (sig) this.signatures.set(svc, sig);
    else this.signatures.delete(svc);
    this.pending.add(svc);
    return true;
  }

  // only what reaches the rules: endpoints of ports the Service does not have are irrelevant
  private signature(svc: string): string {
    const ports = this.services.get(svc);
    if (!ports) return '';
    return JSON.stringify(ports.map((p) => [p, this.endpointsOf(p)]));
  }

  /** The Services changed since the last call, and the trigger times of their slice changes. */
  takeChanges(): { services: Set<string>; triggerTimes: number[] } {
    const out = { services: this.pending, triggerTimes: this.triggers };
    this.pending = new Set();
    this.triggers = [];
    return out;
  }

  hasPending(): boolean {
    return this.pending.size > 0;
  }

  endpointsOf(p: ServicePort): Endpoint[] {
    return this.endpoints.get(p.service)?.get(portKey(p.portName, p.protocol)) ?? EMPTY;
  }

  /** The ports of one Service with their endpoints; [] when it is gone or not proxied. */
  service(svc: string): PortWithEndpoints[] {
    return (this.services.get(svc) ?? []).map((p) => ({ svc: p, endpoints: this.endpointsOf(p) }));
  }

  serviceNames(): string[] {
    return [...this.services.keys()];
  }

  /** Every proxied port, for full syncs. */
  all(): PortWithEndpoints[] {
    const out: PortWithEndpoints[] = [];
    for (const ports of this.services.values()) for (const p of ports) out.push({ svc: p, endpoints: this.endpointsOf(p) });
    return out;
  }
}

// ReplicationController: the core/v1 ancestor of the ReplicaSet. The same controller keeps its
// pods; only the selector differs (a plain map of labels that must all be equal, which upstream
// defaults to the template's labels) and the kind its pods name as their controller.
import type { Logger } from '../../../api/log.ts';
import type { Obj } from '../../apiserver/strategies/types.ts';
import type { LoopbackClient } from '../../client/loopback.ts';
import type { ControllerOptions } from './controller.ts';
import { type ReplicaKind, ReplicaSetController } from './replicaset.ts';

/** An equality selector: every pair must be on the pod; an empty one selects nothing (pure). */
export function equalitySelector(sel: Record<string, string> | undefined): (labels: Record<string, string> | undefined) => boolean {
  const pairs = Object.entries(sel ?? {});
  if (!pairs.length) return () => false;
  return (labels) => pairs.every(([k, v]) => labels?.[k] === v);
}

export const REPLICATION_CONTROLLER: ReplicaKind = {
  path: '/api/v1/replicationcontrollers',
  kind: 'ReplicationController',
  apiVersion: 'v1',
  childPath: '/api/v1/pods',
  component: 'replication-controller',
  selects: (rc: Obj) => equalitySelector(rc.spec?.selector),
};

export function replicationControllerController(client: LoopbackClient, log: Logger, o: ControllerOptions = {}): ReplicaSetController {
  return new ReplicaSetController(client, log, o, REPLICATION_CONTROLLER);
}

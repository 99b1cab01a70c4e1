// The in-process controllers' informer: agents/api's Informer (the one implementation, with its
// relist, rewatch and back-off rules) over the LoopbackClient, with the handlers-in-constructor
// shape and the `synced` promise the controllers use.
import { type Handlers as ObjHandlers, Informer as ApiInformer, keyOf, type ListWatch } from '../../api/informer.ts';
import type { Logger } from '../../api/log.ts';
import type { Obj } from '../apiserver/strategies/types.ts';
import type { LoopbackClient } from './loopback.ts';

export { keyOf };
export type Handlers = ObjHandlers<Obj>;

/** The LoopbackClient as the informer's transport: query values as strings, the stream as events. */
export function loopbackListWatch(client: LoopbackClient): ListWatch<Obj> {
  const strings = (q: Record<string, unknown>) =>
    Object.fromEntries(
      Object.entries(q)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, String(v)]),
    );
  return {
    list: (path, query) => client.list(path, strings(query)),
    async watch(path, query, onEvent, signal) {
      for await (const ev of client.watch(path, strings(query), signal)) onEvent(ev);
    },
  };
}

export class Informer extends ApiInformer<Obj> {
  readonly synced: Promise<void>;

  constructor(client: LoopbackClient, path: string, handlers: Handlers, log: Logger, query: Record<string, string> = {}) {
    super(loopbackListWatch(client), path, query, log);
    this.on(handlers);
    this.synced = this.waitForSync();
  }
}

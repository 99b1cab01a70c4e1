// Events written in the background, as upstream's event broadcaster does: recording never holds up
// a scheduling decision or a binding, one writer sends them in order, and when the queue is full
// new events are dropped (events are best effort; upstream queues at most 1,000).
import type { Obj } from '../apiserver/strategies/types.ts';
import { recordEvent } from '../client/events.ts';
import type { LoopbackClient } from '../client/loopback.ts';

export const MAX_QUEUED_EVENTS = 1000;

interface Pending {
  about: Obj;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export class EventQueue {
  private readonly queue: Pending[] = [];
  private writing = false;
  private stopped = false;
  dropped = 0;

  constructor(
    private readonly client: LoopbackClient,
    private readonly component: string,
    private readonly max = MAX_QUEUED_EVENTS,
  ) {}

  record(about: Obj, type: Pending['type'], reason: string, message: string): void {
    if (this.stopped) return;
    if (this.queue.length >= this.max) {
      this.dropped++;
      return;
    }
    this.queue.push({ about, type, reason, message });
    if (!this.writing) void this.write();
  }

  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
  }

  private async write(): Promise<void> {
    this.writing = true;
    try {
      for (let e = this.queue.shift(); e && !this.stopped; e = this.queue.shift()) {
        await recordEvent(this.client, e.about, e.type, e.reason, e.message, this.component);
      }
    } finally {
      this.writing = false;
    }
  }
}

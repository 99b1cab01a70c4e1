// A promise opened once from outside: what a component awaits before it tells systemd it is ready
// (its first sync done, its first relist done).
export class Latch {
  private opened = false;
  private resolve!: () => void;
  readonly promise = new Promise<void>((r) => {
    this.resolve = r;
  });
  open(): void {
    if (this.opened) return;
    this.opened = true;
    this.resolve();
  }
  get isOpen(): boolean {
    return this.opened;
  }
}

// Which PLEG "changed" events are only the echo of the kubelet's own work. A pod sync that runs a
// sandbox and starts containers knows the runtime state it leaves behind; the relists that follow
// show the sandbox, then the containers created and running, and each used to requeue a full sync
// of the pod (two CRI lists, sandbox and container status, volumes, a status computed to find
// nothing changed): about two extra syncs per pod started (issue #26). A relist showing exactly the
// state the pod's last sync left (podSignatures, the PLEG's own comparison) needs no sync. A relist
// during a sync is held: it may have listed before or after the sync's last runtime call, so when
// the sync ends its value says nothing for sure, and the PLEG is asked to report the pod on its
// next relist (Pleg.recheck), which is compared with what the sync left. Any other state (a
// container that exited, one that vanished, a sandbox no longer ready) is a change and requeues.
export class RuntimeEchoes {
  /** per pod: the runtime signature its last finished sync left, if that sync knew it */
  private readonly left = new Map<string, string>();
  private readonly syncing = new Set<string>();
  /** pods a relist reported while they were being synced */
  private readonly held = new Set<string>();

  /** A sync of the pod starts: what an earlier one left no longer holds. */
  begin(uid: string): void {
    this.syncing.add(uid);
    this.left.delete(uid);
  }

  /**
   * The sync ended and left the runtime in state `signature` (undefined: unknown, e.g. it failed
   * or tore the pod down). Returns whether the PLEG must report the pod again on its next relist.
   */
  end(uid: string, signature: string | undefined): boolean {
    this.syncing.delete(uid);
    if (signature === undefined) this.left.delete(uid);
    else this.left.set(uid, signature);
    return this.held.delete(uid);
  }

  /**
   * Runs one pass of the pod between begin and end; `left` reads the state the pass left (after it,
   * also when it threw) and `recheck` asks the PLEG to report the pod on its next relist.
   */
  async around<T>(uid: string, pass: () => Promise<T>, left: () => string | undefined, recheck: (uid: string) => void): Promise<T> {
    this.begin(uid);
    try {
      return await pass();
    } finally {
      if (this.end(uid, left())) recheck(uid);
    }
  }

  /** A relist saw the pod's runtime state change to `signature`: whether to sync the pod for it. */
  changed(uid: string, signature: string | undefined): boolean {
    if (this.syncing.has(uid)) {
      this.held.add(uid);
      return false;
    }
    return signature === undefined || this.left.get(uid) !== signature;
  }

  /** The pod is gone from every source. */
  forget(uid: string): void {
    this.left.delete(uid);
    this.held.delete(uid);
  }
}

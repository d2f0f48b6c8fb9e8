/**
 * Who hosts a livestream: the recipient of every gift sent into it, and the only user who may run
 * its shopping session. The livestream module owns streams; its streamDirectoryFor(core)
 * (src/handlers/livestream/directory.ts) implements this.
 */

export interface StreamDirectory {
  /** The host of a live stream; undefined when it does not exist or has ended. */
  hostOf(streamId: string): Promise<string | undefined>;
}

/** Statuses from seed 002. `offline` is never chosen: it is what others see with no device connected. */
export const CHOSEN_STATUSES = ['online', 'away', 'busy', 'invisible'] as const;
export type ChosenStatus = (typeof CHOSEN_STATUSES)[number];
export type PresenceStatus = ChosenStatus | 'offline';

/** A user's presence as stored: the chosen status, connected devices (all nodes), last seen. */
export interface PresenceRecord {
  userId: string;
  chosen: ChosenStatus;
  devices: number;
  /** When the user last went from visible to offline (ms), or null if never. */
  lastSeen: number | null;
}

/** A change of what others see. */
export interface PresenceChange {
  userId: string;
  status: PresenceStatus;
  lastSeen: number | null;
}

/** What others see: offline without devices, and invisible looks offline. */
export function publicStatus(chosen: ChosenStatus, devices: number): PresenceStatus {
  return devices === 0 || chosen === 'invisible' ? 'offline' : chosen;
}

/**
 * Shared presence state. Device counts are per node and absolute, so a dead node's devices
 * are removed exactly (removeNode) and a retried write never double-counts. Each write returns
 * the change of the public status it caused, if any, so exactly one node announces it.
 */
export interface PresenceStore {
  setNodeDevices(userId: string, nodeId: string, count: number, now: number): Promise<PresenceChange | undefined>;
  setStatus(userId: string, status: ChosenStatus, now: number): Promise<PresenceChange | undefined>;
  get(userIds: string[]): Promise<PresenceRecord[]>;
  /** Removes every device of a node; returns the public changes. */
  removeNode(nodeId: string, now: number): Promise<PresenceChange[]>;
}

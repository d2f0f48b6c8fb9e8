/**
 * A map from a key to a set of values that stores a key's only value directly and makes a Set
 * only for a second one. Most users have one connection, so the per-user index costs a map
 * entry instead of a map entry plus a Set and its hash table. Values must not be Sets.
 */
export class MultiMap<K, V> {
  private readonly map = new Map<K, V | Set<V>>();

  /** Adds `value` under `key`; false if it was there already. */
  add(key: K, value: V): boolean {
    const held = this.map.get(key);
    if (held === undefined) {
      this.map.set(key, value);
      return true;
    }
    if (held instanceof Set) {
      if (held.has(value)) return false;
      held.add(value);
      return true;
    }
    if (held === value) return false;
    this.map.set(key, new Set([held, value]));
    return true;
  }

  /** Removes `value` from `key`; false if it was not there. */
  delete(key: K, value: V): boolean {
    const held = this.map.get(key);
    if (held === undefined) return false;
    if (!(held instanceof Set)) {
      if (held !== value) return false;
      this.map.delete(key);
      return true;
    }
    if (!held.delete(value)) return false;
    if (held.size === 1) this.map.set(key, held.values().next().value as V);
    return true;
  }

  /** The values under `key`, as a new array (callers may change the map while they walk it). */
  get(key: K): V[] {
    const held = this.map.get(key);
    return held === undefined ? [] : held instanceof Set ? [...held] : [held];
  }

  /** How many values `key` holds. */
  count(key: K): number {
    const held = this.map.get(key);
    return held === undefined ? 0 : held instanceof Set ? held.size : 1;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  keys(): IterableIterator<K> {
    return this.map.keys();
  }

  /** Keys with at least one value. */
  get size(): number {
    return this.map.size;
  }

  clear(): void {
    this.map.clear();
  }
}

/**
 * Per-stream orderings of a path's rows by exchange id, for the loss rules and the paired matching.
 * Rows are written in arrival order, so ids are nearly always sorted already; when they are not
 * (a reconnect's overlap, a file from another tool), rows are sorted stably by id.
 */

/** Row indices of each group, sorted by sequence id (ties keep file order, i.e. arrival order). */
export function orderByGroupAndId(group: Uint16Array, groupCount: number, seq: Float64Array): Uint32Array[] {
  const counts = new Uint32Array(groupCount);
  for (let i = 0; i < group.length; i++) {
    const g = group[i] as number;
    counts[g] = (counts[g] as number) + 1;
  }
  const orders = Array.from(counts, (count) => new Uint32Array(count));
  const fill = new Uint32Array(groupCount);
  if (groupCount === 1) {
    const only = orders[0] as Uint32Array;
    for (let i = 0; i < only.length; i++) only[i] = i;
  } else {
    for (let i = 0; i < group.length; i++) {
      const g = group[i] as number;
      const at = fill[g] as number;
      (orders[g] as Uint32Array)[at] = i;
      fill[g] = at + 1;
    }
  }
  for (const order of orders) sortById(order, seq);
  return orders;
}

function sortById(order: Uint32Array, seq: Float64Array): void {
  const m = order.length;
  let sorted = true;
  let min = Infinity;
  let max = -Infinity;
  for (let k = 0; k < m; k++) {
    const v = seq[order[k] as number] as number;
    if (k > 0 && v < (seq[order[k - 1] as number] as number)) sorted = false;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (sorted) return;
  if ((max - min + 1) * m < Number.MAX_SAFE_INTEGER) {
    // Pack (id, position) into one exact double and use the native numeric sort: stable and fast.
    const keys = new Float64Array(m);
    for (let k = 0; k < m; k++) keys[k] = ((seq[order[k] as number] as number) - min) * m + k;
    keys.sort();
    const copy = order.slice();
    for (let k = 0; k < m; k++) {
      const key = keys[k] as number;
      order[k] = copy[key - Math.floor(key / m) * m] as number;
    }
    return;
  }
  const copy = Array.from(order);
  copy.sort((a, b) => (seq[a] as number) - (seq[b] as number) || a - b);
  order.set(copy);
}

/** What a node of an {@link IntrusiveList} carries: links to its neighbours, set only while it is in the list. */
export interface ListNode<T> {
  older?: T;
  newer?: T;
}

/**
 * A doubly linked list whose links live on the nodes themselves, oldest first: O(1) append and O(1) removal of any
 * node without a search, and no allocation beyond the nodes. Shared by the bulkhead queue, the memory store's
 * recency order and the timeout deadlines.
 */
export class IntrusiveList<T extends ListNode<T>> {
  /** The node appended longest ago. */
  first: T | undefined;
  /** The node appended last. */
  last: T | undefined;
  /** Nodes in the list. */
  size = 0;

  append(node: T): void {
    node.older = this.last;
    node.newer = undefined;
    if (this.last) this.last.newer = node;
    else this.first = node;
    this.last = node;
    this.size++;
  }

  /** Takes `node` out of the list; false when it was not in it (already removed). */
  remove(node: T): boolean {
    if (node.older) node.older.newer = node.newer;
    else if (this.first === node) this.first = node.newer;
    else return false;
    if (node.newer) node.newer.older = node.older;
    else this.last = node.older;
    node.older = node.newer = undefined;
    this.size--;
    return true;
  }
}

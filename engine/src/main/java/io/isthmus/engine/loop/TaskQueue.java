package io.isthmus.engine.loop;

import java.util.concurrent.atomic.AtomicReference;

/**
 * Multi-producer, single-consumer queue of tasks: any thread offers, only the owning IoThread polls.
 *
 * <p>A linked list with an atomically swapped tail (Vyukov's intrusive MPSC design): {@link #offer} is one
 * atomic exchange plus one release store, lock-free and wait-free for producers. The consumer may briefly
 * see a producer's node not linked yet ({@link #poll} returns null while {@link #isEmpty} is false); it then
 * retries on its next turn — {@link #isEmpty} is exact for the purpose of the sleep decision, because it looks
 * at the tail, which the producer swaps first.
 */
public final class TaskQueue {
    static final class Node {
        final Runnable task;
        volatile Node next;

        Node(Runnable task) {
            this.task = task;
        }
    }

    private final AtomicReference<Node> tail;
    private Node head; // consumer only: the last consumed node (a stub at start)

    public TaskQueue() {
        Node stub = new Node(null);
        head = stub;
        tail = new AtomicReference<>(stub);
    }

    /** Any thread. */
    public void offer(Runnable task) {
        Node n = new Node(task);
        Node prev = tail.getAndSet(n);
        prev.next = n; // volatile store publishes the node to the consumer
    }

    /** Consumer thread only. Returns null when empty or when the next node is not linked yet. */
    public Runnable poll() {
        Node next = head.next;
        if (next == null) {
            return null;
        }
        head = next;
        return next.task;
    }

    /** True when no task has been offered that the consumer has not taken. Consumer thread only. */
    public boolean isEmpty() {
        return tail.get() == head;
    }
}

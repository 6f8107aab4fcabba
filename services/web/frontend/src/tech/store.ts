// The device's own copy of the technician's work, in IndexedDB (through `idb`): the jobs as
// the server last described them, the actions recorded since (the queue, in device order),
// the files waiting to upload, and what the server refused. One database per account, so
// two people sharing a phone never see each other's jobs.

import { openDB, type DBSchema, type IDBPDatabase } from "idb";

import type { FieldJob, PendingFile, QueuedAction, RefusedAction } from "./types";

interface TechDB extends DBSchema {
  jobs: { key: string; value: StoredJob };
  queue: { key: string; value: QueuedAction; indexes: { by_job: string } };
  files: { key: string; value: PendingFile; indexes: { by_job: string } };
  refused: { key: string; value: RefusedAction; indexes: { by_job: string } };
  meta: { key: string; value: number | string };
}

/** A job as the server last described it, and what the device learnt of it since. */
export interface StoredJob {
  work_order_id: string;
  day: string;
  view: FieldJob;
  fetched_at: string;
  /** The server said it is no longer ours (reassigned, withdrawn): kept, marked so. */
  taken_away?: string;
}

export class Store {
  private constructor(private readonly db: IDBPDatabase<TechDB>) {}

  static async open(accountId: string): Promise<Store> {
    const db = await openDB<TechDB>(`jobstream-tech-${accountId}`, 1, {
      upgrade(db) {
        db.createObjectStore("jobs", { keyPath: "work_order_id" });
        db.createObjectStore("queue", { keyPath: "action_id" }).createIndex("by_job", "work_order_id");
        db.createObjectStore("files", { keyPath: "attachment_id" }).createIndex("by_job", "work_order_id");
        db.createObjectStore("refused", { keyPath: "action_id" }).createIndex("by_job", "work_order_id");
        db.createObjectStore("meta");
      },
    });
    return new Store(db);
  }

  jobs(): Promise<StoredJob[]> {
    return this.db.getAll("jobs");
  }

  job(workOrderId: string): Promise<StoredJob | undefined> {
    return this.db.get("jobs", workOrderId);
  }

  async putJob(job: StoredJob): Promise<void> {
    await this.db.put("jobs", job);
  }

  async deleteJob(workOrderId: string): Promise<void> {
    await this.db.delete("jobs", workOrderId);
  }

  /** Every queued action, in device order (time, then the device's own counter). */
  async queue(): Promise<QueuedAction[]> {
    const all = await this.db.getAll("queue");
    return all.sort(deviceOrder);
  }

  async queueOf(workOrderId: string): Promise<QueuedAction[]> {
    const all = await this.db.getAllFromIndex("queue", "by_job", workOrderId);
    return all.sort(deviceOrder);
  }

  /** The device's counter: it breaks ties between actions stamped in the same instant. */
  async nextSeq(): Promise<number> {
    const tx = this.db.transaction("meta", "readwrite");
    const seq = (((await tx.store.get("device_seq")) as number | undefined) ?? 0) + 1;
    await tx.store.put(seq, "device_seq");
    await tx.done;
    return seq;
  }

  async enqueue(action: QueuedAction): Promise<void> {
    await this.db.put("queue", action);
  }

  async dequeue(actionIds: string[]): Promise<void> {
    const tx = this.db.transaction("queue", "readwrite");
    await Promise.all(actionIds.map((id) => tx.store.delete(id)));
    await tx.done;
  }

  files(): Promise<PendingFile[]> {
    return this.db.getAll("files");
  }

  filesOf(workOrderId: string): Promise<PendingFile[]> {
    return this.db.getAllFromIndex("files", "by_job", workOrderId);
  }

  async addFile(file: PendingFile): Promise<void> {
    await this.db.put("files", file);
  }

  async dropFile(attachmentId: string): Promise<void> {
    await this.db.delete("files", attachmentId);
  }

  /** The server refused these: off the queue, onto the list the technician is shown. */
  async refuse(refusals: RefusedAction[]): Promise<void> {
    const tx = this.db.transaction(["queue", "files", "refused"], "readwrite");
    for (const r of refusals) {
      await tx.objectStore("refused").put(r);
      await tx.objectStore("queue").delete(r.action_id);
      await tx.objectStore("files").delete(r.action_id);
    }
    await tx.done;
  }

  refusedOf(workOrderId: string): Promise<RefusedAction[]> {
    return this.db.getAllFromIndex("refused", "by_job", workOrderId);
  }

  async counts(): Promise<{ actions: number; files: number; refused: number }> {
    return {
      actions: await this.db.count("queue"),
      files: await this.db.count("files"),
      refused: await this.db.count("refused"),
    };
  }
}

function deviceOrder(a: QueuedAction, b: QueuedAction): number {
  return a.device_time.localeCompare(b.device_time) || a.device_seq - b.device_seq || a.action_id.localeCompare(b.action_id);
}

// Photos and signatures made on the device: a camera photo is scaled down before it is
// kept (a phone's 12-megapixel picture would fill the queue and the mobile data), and
// every file gets its SHA-256 here, so the server can check the bytes that arrive.

const LONGEST_SIDE = 1600;

export async function sha256Hex(blob: Blob): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The picture at most LONGEST_SIDE pixels on its longest side, as JPEG. */
export async function resizedPhoto(file: Blob): Promise<Blob> {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, LONGEST_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  const context = canvas.getContext("2d");
  if (!context) throw new Error("this browser cannot draw pictures");
  context.fillStyle = "#fff"; // a transparent PNG becomes white, not black, as JPEG
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  return toBlob(canvas, "image/jpeg", 0.85);
}

function toBlob(canvas: HTMLCanvasElement, type: string, quality?: number): Promise<Blob> {
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("the picture could not be made"))), type, quality),
  );
}

/** A canvas the customer signs on with a finger, a pen or a mouse (pointer events). */
export class SignaturePad {
  private drawn = false;
  private last: { x: number; y: number } | null = null;

  constructor(private readonly canvas: HTMLCanvasElement) {
    const context = canvas.getContext("2d");
    if (!context) throw new Error("this browser cannot draw");
    context.lineWidth = 2.5;
    context.lineCap = "round";
    context.strokeStyle = "#10243a";
    canvas.addEventListener("pointerdown", (e) => {
      canvas.setPointerCapture(e.pointerId);
      this.last = this.point(e);
    });
    canvas.addEventListener("pointermove", (e) => {
      if (!this.last) return;
      const next = this.point(e);
      context.beginPath();
      context.moveTo(this.last.x, this.last.y);
      context.lineTo(next.x, next.y);
      context.stroke();
      this.last = next;
      this.drawn = true;
    });
    const stop = () => (this.last = null);
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);
  }

  private point(e: PointerEvent): { x: number; y: number } {
    const box = this.canvas.getBoundingClientRect();
    return { x: ((e.clientX - box.left) * this.canvas.width) / box.width, y: ((e.clientY - box.top) * this.canvas.height) / box.height };
  }

  get isEmpty(): boolean {
    return !this.drawn;
  }

  clear(): void {
    this.canvas.getContext("2d")?.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.drawn = false;
  }

  png(): Promise<Blob> {
    return toBlob(this.canvas, "image/png");
  }
}

/**
 * The new-order sound: a short two-note chime made with Web Audio (no file to load).
 * Browsers only let a page play sound after someone has interacted with it; `unlock()`
 * is called from the first click or key press, and `blocked()` says when the kitchen has
 * to tap the "enable sound" button after a reload.
 */
type AudioContextCtor = typeof AudioContext;

let context: AudioContext | null = null;

function ctor(): AudioContextCtor | null {
  const w = globalThis as unknown as { AudioContext?: AudioContextCtor; webkitAudioContext?: AudioContextCtor };
  return w.AudioContext ?? w.webkitAudioContext ?? null;
}

function ensure(): AudioContext | null {
  if (context) return context;
  const Ctor = ctor();
  if (!Ctor) return null;
  try {
    context = new Ctor();
  } catch {
    context = null;
  }
  return context;
}

export function unlockSound(): void {
  const ctx = ensure();
  if (ctx && ctx.state === "suspended") void ctx.resume().catch(() => undefined);
}

/** Has anyone clicked or typed on this page yet (the browser's autoplay rule)? */
function activated(): boolean {
  const activation = (globalThis.navigator as Navigator | undefined)?.userActivation;
  return activation ? activation.hasBeenActive : context !== null;
}

export function soundBlocked(): boolean {
  return !context || context.state !== "running";
}

export function playChime(): boolean {
  // Creating an AudioContext before any interaction only earns a console warning.
  const ctx = context ?? (activated() ? ensure() : null);
  if (!ctx) return false;
  if (ctx.state === "suspended") void ctx.resume().catch(() => undefined);
  const start = ctx.currentTime + 0.01;
  for (const [offset, frequency] of [
    [0, 880],
    [0.18, 1318.5],
  ] as const) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = "sine";
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start + offset);
    gain.gain.exponentialRampToValueAtTime(0.35, start + offset + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.45);
    osc.connect(gain).connect(ctx.destination);
    osc.start(start + offset);
    osc.stop(start + offset + 0.5);
  }
  return ctx.state === "running";
}

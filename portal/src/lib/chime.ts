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

type Note = readonly [offset: number, frequency: number];

function playNotes(notes: readonly Note[], wave: OscillatorType, length: number): boolean {
  // Creating an AudioContext before any interaction only earns a console warning.
  const ctx = context ?? (activated() ? ensure() : null);
  if (!ctx) return false;
  if (ctx.state === "suspended") void ctx.resume().catch(() => undefined);
  const start = ctx.currentTime + 0.01;
  for (const [offset, frequency] of notes) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = wave;
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start + offset);
    gain.gain.exponentialRampToValueAtTime(0.35, start + offset + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + length);
    osc.connect(gain).connect(ctx.destination);
    osc.start(start + offset);
    osc.stop(start + offset + length + 0.05);
  }
  return ctx.state === "running";
}

/** New order (and ready): two rising sine notes. */
export function playChime(): boolean {
  return playNotes(
    [
      [0, 880],
      [0.18, 1318.5],
    ],
    "sine",
    0.45,
  );
}

/** A customer cancelled: three falling square-wave notes, unlike the new-order chime so
 * the kitchen knows without looking that a ticket is going away, not arriving. */
export function playCancelChime(): boolean {
  return playNotes(
    [
      [0, 659.3],
      [0.16, 523.3],
      [0.32, 392],
    ],
    "square",
    0.25,
  );
}

/** Whether the board plays the new-order chime (per device, remembered). */
import { playCancelChime, playChime } from "@/lib/chime";
import { createStore } from "@/lib/store";

const KEY = "canteen.portal.sound";

function initial(): boolean {
  try {
    return globalThis.localStorage?.getItem(KEY) !== "off";
  } catch {
    return true;
  }
}

export const soundStore = createStore<boolean>(initial());

export function setSound(on: boolean): void {
  soundStore.set(on);
  try {
    localStorage.setItem(KEY, on ? "on" : "off");
  } catch {
    // not remembered
  }
}

export const chime = {
  /** Replaced in tests. */
  play: (): boolean => playChime(),
  /** A customer cancelled an order on the board (a different sound). */
  cancel: (): boolean => playCancelChime(),
};

export function alertSound(): void {
  if (soundStore.get()) chime.play();
}

export function cancelSound(): void {
  if (soundStore.get()) chime.cancel();
}

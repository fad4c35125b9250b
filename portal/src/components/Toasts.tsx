import { createStore, useStore } from "@/lib/store";

export interface Toast {
  id: number;
  text: string;
  tone: "info" | "success" | "error";
}

const toastStore = createStore<Toast[]>([]);
let nextId = 1;

export function toast(text: string, tone: Toast["tone"] = "success", ms = 4000): void {
  const id = nextId++;
  toastStore.set((all) => [...all.slice(-3), { id, text, tone }]);
  setTimeout(() => toastStore.set((all) => all.filter((t) => t.id !== id)), ms);
}

/** Short confirmations ("Saved") announced politely; errors stay on their forms. */
export function Toasts() {
  const toasts = useStore(toastStore);
  return (
    <div className="toasts" role="status" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`toast toast-${t.tone}`}>
          {t.text}
        </div>
      ))}
    </div>
  );
}

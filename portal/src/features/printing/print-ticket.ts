/**
 * A kitchen order ticket (KOT) printed from the browser: the ticket is written into a
 * container that only the print stylesheet shows (styles/print.css, 80 mm paper), then
 * the browser's print dialog opens. Built with textContent, so nothing in an order
 * (a note, a name) can become markup.
 */
import type { KitchenOrder } from "@/lib/api-types";
import { formatClock } from "@/lib/time";

import "./styles/print.css";

export const PRINT_ROOT_ID = "kot-print-root";

function el(tag: string, className: string, text?: string): HTMLElement {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The ticket's DOM: number, type and slot, time, lines with quantities and notes. */
export function renderTicket(order: KitchenOrder): HTMLElement {
  const ticket = el("article", "kot");
  ticket.append(el("p", "kot-title", "KITCHEN TICKET"));
  ticket.append(el("h1", "kot-number", order.number));
  const kind = order.order_type === "pickup" ? "PICKUP" : "DELIVERY";
  ticket.append(el("p", "kot-meta", order.time_slot ? `${kind} · ${order.time_slot}` : kind));
  ticket.append(el("p", "kot-time", `Placed ${formatClock(order.created_at)}`));
  const lines = el("ul", "kot-lines");
  for (const line of order.items) {
    const item = el("li", "kot-line");
    item.append(el("span", "kot-qty", `${line.quantity} ×`), el("span", "kot-name", ` ${line.name}`));
    if (line.notes) item.append(el("span", "kot-note", `note: ${line.notes}`));
    lines.append(item);
  }
  ticket.append(lines);
  if (order.instructions) ticket.append(el("p", "kot-instructions", `Instructions: ${order.instructions}`));
  return ticket;
}

/** Put the ticket in the print container (replacing any earlier one) and print it. */
export function printTicket(order: KitchenOrder): void {
  let root = document.getElementById(PRINT_ROOT_ID);
  if (!root) {
    root = document.createElement("div");
    root.id = PRINT_ROOT_ID;
    document.body.append(root);
  }
  root.replaceChildren(renderTicket(order));
  globalThis.print();
}

/** The customer's live tracking socket (ws://…/api/v1/ws/orders/{id}), opened in a page of its own. */
import type { Browser, Page } from "@playwright/test";

import { e2eEnv } from "./env";

export interface CustomerSocket {
  statuses(): Promise<string[]>;
  messages(): Promise<{ type: string; status?: string; seq?: number }[]>;
  close(): Promise<void>;
}

export async function openCustomerSocket(browser: Browser, orderId: string, token: string): Promise<CustomerSocket> {
  const context = await browser.newContext();
  const page: Page = await context.newPage();
  const { apiURL } = e2eEnv();
  await page.goto(`${apiURL}/healthz`);
  const url = `${apiURL.replace(/^http/, "ws")}/api/v1/ws/orders/${orderId}?token=${encodeURIComponent(token)}`;
  await page.evaluate(
    (socketUrl) =>
      new Promise<void>((resolve, reject) => {
        const w = window as unknown as { __messages: unknown[]; __socket: WebSocket };
        w.__messages = [];
        const socket = new WebSocket(socketUrl);
        w.__socket = socket;
        socket.onmessage = (event) => {
          const message = JSON.parse(String(event.data)) as { type: string };
          if (message.type !== "ping") w.__messages.push(message);
          if (message.type === "order.snapshot") resolve();
        };
        socket.onerror = () => reject(new Error("the socket failed"));
      }),
    url,
  );
  const messages = () =>
    page.evaluate(
      () => (window as unknown as { __messages: { type: string; status?: string; seq?: number }[] }).__messages,
    );
  return {
    messages,
    statuses: async () => (await messages()).map((m) => m.status ?? "").filter(Boolean),
    close: () => context.close(),
  };
}

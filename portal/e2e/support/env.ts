/** Where global-setup put things (environment variables reach the test workers). */
export interface E2EEnv {
  /** The portal as the browser sees it: through the relay that tests can cut. */
  baseURL: string;
  /** The backend directly, for the tests' own API calls (never cut). */
  apiURL: string;
  /** The relay's control endpoint. */
  relayURL: string;
  secretKey: string;
}

export function e2eEnv(): E2EEnv {
  const baseURL = process.env.CANTEEN_E2E_BASE_URL;
  const apiURL = process.env.CANTEEN_E2E_API_URL;
  const relayURL = process.env.CANTEEN_E2E_RELAY_URL;
  const secretKey = process.env.CANTEEN_E2E_SECRET_KEY;
  if (!baseURL || !apiURL || !relayURL || !secretKey) {
    throw new Error("The e2e environment is missing; run the tests with `npm run e2e` (global setup)");
  }
  return { baseURL, apiURL, relayURL, secretKey };
}

export const DEMO = {
  admin: { phone: "+919000000001", password: "canteen-admin", name: "Meera (manager)" },
  kitchen: { phone: "+919000000002", password: "canteen-kitchen", name: "Ravi (kitchen)" },
  delivery: { phone: "+919000000003", password: "canteen-delivery", name: "Arjun (delivery)" },
} as const;

import { http, HttpResponse } from "msw";

import { server } from "@/testing/server";

import { api, ApiError, authFetch, data, refreshSession, unwrap } from "./api";
import { session } from "./session";

const ME = "http://localhost:3000/api/v1/users/me";
const REFRESH = "http://localhost:3000/api/v1/auth/refresh";
const user = {
  id: "u1",
  phone: "+919000000002",
  name: "Ravi",
  email: null,
  role: "kitchen" as const,
  is_active: true,
  created_at: "2026-11-01T00:00:00Z",
};

function signIn(access = "old-access", refresh = "old-refresh-token") {
  session.set({ accessToken: access, refreshToken: refresh, accessExpiresAt: Date.now() + 1000, user });
}

const expired = () =>
  HttpResponse.json(
    { error: { code: "TOKEN_EXPIRED", message: "The access token has expired", details: [] } },
    { status: 401 },
  );

describe("the API client", () => {
  it("sends the bearer token and a fresh X-Request-ID on every request", async () => {
    signIn("token-1");
    const seen: { auth: string | null; id: string | null }[] = [];
    server.use(
      http.get(ME, ({ request }) => {
        seen.push({ auth: request.headers.get("authorization"), id: request.headers.get("x-request-id") });
        return HttpResponse.json({ data: user });
      }),
    );
    await data(api.GET("/api/v1/users/me"));
    await data(api.GET("/api/v1/users/me"));
    expect(seen.map((s) => s.auth)).toEqual(["Bearer token-1", "Bearer token-1"]);
    expect(seen[0]!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen[0]!.id).not.toBe(seen[1]!.id);
  });

  it("refreshes once for many requests that meet TOKEN_EXPIRED together, then retries each", async () => {
    signIn();
    let refreshes = 0;
    const retried: string[] = [];
    server.use(
      http.get(ME, ({ request }) => {
        const auth = request.headers.get("authorization");
        if (auth === "Bearer old-access") return expired();
        retried.push(auth ?? "");
        return HttpResponse.json({ data: user });
      }),
      http.post(REFRESH, async ({ request }) => {
        refreshes += 1;
        expect(await request.json()).toEqual({ refresh_token: "old-refresh-token" });
        await new Promise((r) => setTimeout(r, 20));
        return HttpResponse.json({
          data: {
            access_token: "new-access",
            refresh_token: "new-refresh-token",
            token_type: "bearer",
            expires_in: 3600,
            refresh_expires_in: 1,
          },
        });
      }),
    );
    const results = await Promise.all([1, 2, 3].map(() => data(api.GET("/api/v1/users/me"))));
    expect(results.map((r) => r.id)).toEqual(["u1", "u1", "u1"]);
    expect(refreshes).toBe(1);
    expect(retried).toEqual(["Bearer new-access", "Bearer new-access", "Bearer new-access"]);
    expect(session.get()?.refreshToken).toBe("new-refresh-token");
  });

  it("retries a request with a body after the refresh (the body is sent again)", async () => {
    signIn();
    const bodies: unknown[] = [];
    server.use(
      http.patch(ME, async ({ request }) => {
        bodies.push(await request.json());
        if (request.headers.get("authorization") === "Bearer old-access") return expired();
        return HttpResponse.json({ data: { ...user, name: "Ravi K" } });
      }),
      http.post(REFRESH, () =>
        HttpResponse.json({
          data: {
            access_token: "new-access",
            refresh_token: "new-refresh-token",
            token_type: "bearer",
            expires_in: 3600,
            refresh_expires_in: 1,
          },
        }),
      ),
    );
    const saved = await data(api.PATCH("/api/v1/users/me", { body: { name: "Ravi K" } }));
    expect(saved.name).toBe("Ravi K");
    expect(bodies).toEqual([{ name: "Ravi K" }, { name: "Ravi K" }]);
  });

  it("ends the session when the refresh is refused, and says why when the token was reused", async () => {
    signIn();
    server.use(
      http.get(ME, expired),
      http.post(REFRESH, () =>
        HttpResponse.json(
          { error: { code: "INVALID_TOKEN", message: "reused", details: [{ reason: "refresh_token_reused" }] } },
          { status: 401 },
        ),
      ),
    );
    await expect(unwrap(api.GET("/api/v1/users/me"))).rejects.toMatchObject({ status: 401, code: "TOKEN_EXPIRED" });
    expect(session.get()).toBeNull();
    expect(session.endReason()).toBe("revoked");
  });

  it("ends the session at once on INVALID_TOKEN (no refresh)", async () => {
    signIn();
    let refreshed = false;
    server.use(
      http.get(ME, () =>
        HttpResponse.json({ error: { code: "INVALID_TOKEN", message: "no", details: [] } }, { status: 401 }),
      ),
      http.post(REFRESH, () => {
        refreshed = true;
        return HttpResponse.json({});
      }),
    );
    await expect(unwrap(api.GET("/api/v1/users/me"))).rejects.toBeInstanceOf(ApiError);
    expect(refreshed).toBe(false);
    expect(session.get()).toBeNull();
    expect(session.endReason()).toBe("expired");
  });

  it("keeps the session when the refresh cannot reach the server", async () => {
    signIn();
    server.use(http.post(REFRESH, () => HttpResponse.error()));
    await expect(refreshSession("old-access")).rejects.toMatchObject({ status: 0, code: "NETWORK_ERROR" });
    expect(session.get()?.accessToken).toBe("old-access");
  });

  it("skips the refresh when another tab or request already refreshed", async () => {
    signIn("newer-access");
    let refreshed = false;
    server.use(
      http.post(REFRESH, () => {
        refreshed = true;
        return HttpResponse.json({});
      }),
    );
    await expect(refreshSession("stale-access")).resolves.toBe("refreshed");
    expect(refreshed).toBe(false);
  });

  it("turns the error contract into an ApiError with field messages", async () => {
    signIn();
    server.use(
      http.patch(ME, () =>
        HttpResponse.json(
          {
            error: {
              code: "VALIDATION_ERROR",
              message: "The request is not valid",
              details: [
                { field: "body.email", issue: "string_pattern_mismatch", message: "Not an email address" },
                { field: "name", issue: "missing" },
              ],
            },
          },
          { status: 400, headers: { "X-Request-ID": "req-42" } },
        ),
      ),
    );
    const error = (await unwrap(api.PATCH("/api/v1/users/me", { body: { email: "x" } })).catch(
      (e: unknown) => e,
    )) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.requestId).toBe("req-42");
    expect(error.fieldMessages("email")).toEqual(["Not an email address"]);
    expect(error.fieldMessages("name")).toEqual(["This is required."]);
  });

  it("reports a network failure as an ApiError with status 0", async () => {
    server.use(http.get(ME, () => HttpResponse.error()));
    const error = (await authFetch(new Request(ME)).catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.isNetwork).toBe(true);
  });
});

import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";

import { session } from "@/lib/session";
import { apiError, user } from "@/testing/factories";
import { renderPage } from "@/testing/render";
import { server } from "@/testing/server";

import { LoginPage } from "./LoginPage";

const AUTH = "http://localhost:3000/api/v1/auth";

function sessionFor(role: "kitchen" | "admin" | "delivery" | "customer") {
  return {
    data: {
      access_token: `at-${role}`,
      refresh_token: `rt-${role}-0123456789`,
      token_type: "bearer",
      expires_in: 3600,
      refresh_expires_in: 2592000,
      user: user({ role }),
    },
  };
}

describe("the sign-in page", () => {
  it("signs staff in with phone and password and goes where they were headed", async () => {
    let sent: unknown;
    server.use(
      http.post(`${AUTH}/staff-login`, async ({ request }) => {
        sent = await request.json();
        return HttpResponse.json(sessionFor("kitchen"));
      }),
    );
    renderPage(<LoginPage />, { route: "/login?next=%2Forders%3Fq%3D42", path: "/login" });
    await userEvent.type(screen.getByLabelText("Phone number"), "9000000002");
    await userEvent.type(screen.getByLabelText("Password"), "canteen-kitchen");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByTestId("location")).toHaveTextContent("/orders?q=42");
    expect(sent).toEqual({ phone: "9000000002", password: "canteen-kitchen" });
    expect(session.get()?.accessToken).toBe("at-kitchen");
    expect(JSON.parse(localStorage.getItem("canteen.portal.session")!).refreshToken).toBe("rt-kitchen-0123456789");
  });

  it("never follows a next= that leaves the portal", async () => {
    server.use(http.post(`${AUTH}/staff-login`, () => HttpResponse.json(sessionFor("admin"))));
    renderPage(<LoginPage />, { route: "/login?next=%2F%2Fevil.example", path: "/login" });
    await userEvent.type(screen.getByLabelText("Phone number"), "9000000001");
    await userEvent.type(screen.getByLabelText("Password"), "x");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    // An admin without a (safe) next= lands on the dashboard.
    expect(await screen.findByTestId("location")).toHaveTextContent(/^\/dashboard$/);
  });

  it("shows the server's message for wrong credentials and for field errors", async () => {
    server.use(
      http.post(`${AUTH}/staff-login`, () =>
        HttpResponse.json(apiError("INVALID_CREDENTIALS", "The phone number or password is wrong"), { status: 401 }),
      ),
    );
    renderPage(<LoginPage />, { route: "/login", path: "/login" });
    await userEvent.type(screen.getByLabelText("Phone number"), "9000000002");
    await userEvent.type(screen.getByLabelText("Password"), "nope");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("The phone number or password is wrong");
    expect(session.get()).toBeNull();

    server.use(
      http.post(`${AUTH}/staff-login`, () =>
        HttpResponse.json(
          apiError("VALIDATION_ERROR", "The request is not valid", [
            { field: "phone", issue: "invalid", message: "Not a valid phone number" },
          ]),
          { status: 400 },
        ),
      ),
    );
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByText("Not a valid phone number")).toBeInTheDocument();
    expect(screen.getByLabelText("Phone number")).toHaveAttribute("aria-invalid", "true");
  });

  it("offers the password sign-in only: staff never sign in with a one-time code", async () => {
    renderPage(<LoginPage />, { route: "/login", path: "/login" });
    expect(screen.getByLabelText("Password")).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "One-time code" })).toBeNull();
    expect(screen.queryByLabelText("6-digit code")).toBeNull();
  });

  it("turns away accounts that are not staff, and revokes their session", async () => {
    let loggedOut = false;
    server.use(
      http.post(`${AUTH}/staff-login`, () => HttpResponse.json(sessionFor("customer"))),
      http.post(`${AUTH}/logout`, () => {
        loggedOut = true;
        return HttpResponse.json({ data: { logged_out: true } });
      }),
    );
    renderPage(<LoginPage />, { route: "/login", path: "/login" });
    await userEvent.type(screen.getByLabelText("Phone number"), "9000000003");
    await userEvent.type(screen.getByLabelText("Password"), "a-customer-password");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("This portal is for canteen staff");
    expect(session.get()).toBeNull();
    expect(loggedOut).toBe(true);
  });
});

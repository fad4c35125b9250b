import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";

import { apiError, signInAs } from "@/testing/factories";
import { renderPage } from "@/testing/render";
import { server } from "@/testing/server";

import type { DisplayInfo } from "../api/display";
import { DisplayTokensPanel } from "./DisplayTokensPanel";

const API = "http://localhost:3000/api/v1";

describe("display tokens in Settings", () => {
  beforeEach(() => signInAs("admin"));

  it("creates a token, shows it once, and revokes it", async () => {
    let displays: DisplayInfo[] = [];
    const writes: string[] = [];
    server.use(
      http.get(`${API}/admin/displays`, () => HttpResponse.json({ data: displays })),
      http.post(`${API}/admin/displays`, async ({ request }) => {
        const { name } = (await request.json()) as { name: string };
        writes.push(`create ${name}`);
        const info = { id: "d1", name, hint: "disp_abcd", created_at: "2026-12-04T10:00:00Z", revoked_at: null };
        displays = [info];
        return HttpResponse.json({ data: { ...info, token: "disp_abcd-secret" } }, { status: 201 });
      }),
      http.post(`${API}/admin/displays/:id/revoke`, ({ params }) => {
        writes.push(`revoke ${String(params.id)}`);
        displays = displays.map((d) => ({ ...d, revoked_at: "2026-12-04T11:00:00Z" }));
        return HttpResponse.json({ data: displays[0] });
      }),
    );
    renderPage(<DisplayTokensPanel />);
    await userEvent.type(screen.getByLabelText("Display name"), "Counter TV");
    await userEvent.click(screen.getByRole("button", { name: "Create display token" }));
    expect(await screen.findByTestId("display-token")).toHaveTextContent("disp_abcd-secret");
    expect(screen.getByRole("link", { name: "the display link" })).toHaveAttribute(
      "href",
      expect.stringMatching(/\/display#token=disp_abcd-secret$/),
    );
    await userEvent.click(await screen.findByRole("button", { name: "Revoke Counter TV" }));
    expect(await screen.findByText(/revoked/)).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Revoke Counter TV" })).toBeNull();
    expect(writes).toEqual(["create Counter TV", "revoke d1"]);
  });

  it("shows a refused name by its field", async () => {
    server.use(
      http.get(`${API}/admin/displays`, () => HttpResponse.json({ data: [] })),
      http.post(`${API}/admin/displays`, () =>
        HttpResponse.json(
          apiError("VALIDATION_ERROR", "The request is not valid", [
            { field: "name", issue: "string_too_long", message: "At most 80 characters" },
          ]),
          { status: 400 },
        ),
      ),
    );
    renderPage(<DisplayTokensPanel />);
    await userEvent.type(screen.getByLabelText("Display name"), "TV");
    await userEvent.click(screen.getByRole("button", { name: "Create display token" }));
    expect(await screen.findByText("At most 80 characters")).toBeInTheDocument();
    expect(screen.queryByTestId("display-token")).toBeNull();
  });
});

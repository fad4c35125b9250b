import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";

import { apiError, list, signInAs, user } from "@/testing/factories";
import { renderPage } from "@/testing/render";
import { server } from "@/testing/server";

import { StaffPage } from "./StaffPage";

const API = "http://localhost:3000/api/v1/admin/staff";

describe("the staff page", () => {
  it("creates accounts and shows a taken phone as the server says it", async () => {
    const me = signInAs("admin");
    const staff = [me, user({ name: "Arjun", role: "delivery", phone: "+919000000003" })];
    const posted: unknown[] = [];
    server.use(
      http.get(API, () => HttpResponse.json(list(staff))),
      http.post(API, async ({ request }) => {
        const body = (await request.json()) as { phone: string; name: string; role: "kitchen" };
        posted.push(body);
        if (body.phone === "9000000003") {
          return HttpResponse.json(
            apiError("PHONE_TAKEN", "An account with this phone number already exists", [
              { field: "phone", issue: "taken" },
            ]),
            { status: 409 },
          );
        }
        const created = user({ ...body, phone: `+91${body.phone}` });
        staff.push(created);
        return HttpResponse.json({ data: created }, { status: 201 });
      }),
    );
    renderPage(<StaffPage />);
    const form = await screen.findByRole("form", { name: "Add a staff account" });
    await userEvent.click(within(form).getByRole("button", { name: "Create account" }));
    expect(within(form).getByText("Enter the person's name.")).toBeInTheDocument();
    expect(within(form).getByText("At least 8 characters.")).toBeInTheDocument();
    expect(posted).toEqual([]);

    await userEvent.type(within(form).getByLabelText("Name"), "Kiran");
    await userEvent.type(within(form).getByLabelText("Phone"), "9000000003");
    await userEvent.type(within(form).getByLabelText("Password"), "long-enough");
    await userEvent.click(within(form).getByRole("button", { name: "Create account" }));
    expect(await within(form).findByRole("alert")).toHaveTextContent(
      "An account with this phone number already exists",
    );
    expect(within(form).getByText("This is already taken.")).toBeInTheDocument();

    const phone = within(form).getByLabelText("Phone");
    await userEvent.clear(phone);
    await userEvent.type(phone, "9000000044");
    await userEvent.click(within(form).getByRole("button", { name: "Create account" }));
    expect(await screen.findByRole("rowheader", { name: "Kiran" })).toBeInTheDocument();
  });

  it("never offers to deactivate your own account", async () => {
    const me = signInAs("admin");
    server.use(http.get(API, () => HttpResponse.json(list([me]))));
    renderPage(<StaffPage />);
    const row = (await screen.findByRole("rowheader", { name: /Meera/ })).closest("tr")!;
    expect(within(row).getByRole("button", { name: "Deactivate" })).toBeDisabled();
  });
});

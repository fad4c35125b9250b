import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";

import { apiError, list, menuItem, signInAs } from "@/testing/factories";
import { renderPage } from "@/testing/render";
import { server } from "@/testing/server";

import { ItemEditorPage } from "./ItemEditorPage";

const API = "http://localhost:3000/api/v1/admin";
const slots = [
  {
    id: "s1",
    code: "breakfast",
    label: "Breakfast",
    start_time: "07:30:00",
    end_time: "10:30:00",
    is_active: true,
    sort_order: 0,
  },
  {
    id: "s2",
    code: "lunch",
    label: "Lunch",
    start_time: "12:00:00",
    end_time: "15:00:00",
    is_active: true,
    sort_order: 1,
  },
];

function serveBasics() {
  server.use(
    http.get(`${API}/menu/categories`, () =>
      HttpResponse.json({ data: [{ id: "cat-1", name: "South Indian", sort_order: 0, is_active: true }] }),
    ),
    http.get(`${API}/time-slots`, () => HttpResponse.json({ data: slots })),
    http.get(`${API}/menu/items`, () => HttpResponse.json(list([]))),
  );
}

describe("the item editor", () => {
  beforeEach(() => {
    signInAs("admin");
    serveBasics();
  });

  it("shows the server's field errors next to the fields and saves nothing else", async () => {
    let posted: unknown;
    server.use(
      http.post(`${API}/menu/items`, async ({ request }) => {
        posted = await request.json();
        return HttpResponse.json(
          apiError("VALIDATION_ERROR", "The request is not valid", [
            { field: "body.name", issue: "duplicate", message: "An item with this name already exists" },
          ]),
          { status: 400 },
        );
      }),
    );
    renderPage(<ItemEditorPage />, { route: "/menu/items/new", path: "/menu/items/new" });
    await userEvent.type(await screen.findByLabelText("Name"), "Masala Dosa");
    await userEvent.type(screen.getByLabelText(/Price/), "60");
    await userEvent.click(await screen.findByRole("checkbox", { name: /Breakfast/ }));
    await userEvent.click(screen.getByRole("button", { name: "Create item" }));
    expect(await screen.findByText("An item with this name already exists")).toBeInTheDocument();
    expect(screen.getByLabelText("Name")).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByRole("alert")).toHaveTextContent("Not saved.");
    expect(posted).toMatchObject({ name: "Masala Dosa", price: 6000, time_slots: ["breakfast"], category_id: "cat-1" });
  });

  it("checks the form before sending anything", async () => {
    let sent = false;
    server.use(
      http.post(`${API}/menu/items`, () => {
        sent = true;
        return HttpResponse.json({});
      }),
    );
    renderPage(<ItemEditorPage />, { route: "/menu/items/new", path: "/menu/items/new" });
    await screen.findByRole("option", { name: "South Indian" });
    await userEvent.click(await screen.findByRole("button", { name: "Create item" }));
    expect(await screen.findByText("3 fields need attention; nothing was saved.")).toBeInTheDocument();
    expect(screen.getByText("Give the item a name.")).toBeInTheDocument();
    expect(screen.getByText("Choose at least one time slot.")).toBeInTheDocument();
    expect(sent).toBe(false);
  });

  it("previews a chosen photo before uploading it, and refuses files that are not images", async () => {
    const item = menuItem({ id: "dosa", name: "Masala Dosa" });
    let uploaded: File | null = null;
    server.use(
      http.get(`${API}/menu/items/dosa`, () => HttpResponse.json({ data: item })),
      http.post(`${API}/menu/items/dosa/image`, async ({ request }) => {
        uploaded = (await request.formData()).get("file") as File;
        return HttpResponse.json({
          data: { ...item, image_url: "/media/menu/dosa/x-display.webp", thumbnail_url: "/media/t.webp" },
        });
      }),
    );
    const createObjectURL = vi.fn(() => "blob:preview");
    Object.assign(URL, { createObjectURL, revokeObjectURL: vi.fn() });
    renderPage(<ItemEditorPage />, { route: "/menu/items/dosa", path: "/menu/items/:itemId" });
    const input = await screen.findByLabelText("Choose a photo");
    await userEvent.upload(input, new File(["%PDF"], "menu.pdf", { type: "application/pdf" }), { applyAccept: false });
    expect(screen.getByRole("alert")).toHaveTextContent("Choose a JPEG, PNG or WebP image.");
    expect(screen.getByRole("button", { name: "Upload photo" })).toBeDisabled();

    await userEvent.upload(input, new File(["png-bytes"], "dosa.png", { type: "image/png" }));
    expect(screen.getByRole("img", { name: /Preview of the new photo/ })).toHaveAttribute("src", "blob:preview");
    await userEvent.click(screen.getByRole("button", { name: "Upload photo" }));
    expect(await screen.findByRole("img", { name: "Current photo of Masala Dosa" })).toHaveAttribute(
      "src",
      "/media/menu/dosa/x-display.webp",
    );
    expect(uploaded).not.toBeNull();
    expect(uploaded!.size).toBe("png-bytes".length);
  });
});

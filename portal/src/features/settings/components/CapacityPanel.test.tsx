import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";

import { signInAs } from "@/testing/factories";
import { renderPage } from "@/testing/render";
import { server } from "@/testing/server";

import { CapacityPanel } from "./CapacityPanel";

const API = "http://localhost:3000/api/v1/admin/kitchen/capacity";

describe("the kitchen capacity setting", () => {
  it("sets a slot's minutes per window, refuses nonsense before sending, and empties back to the default", async () => {
    signInAs("admin");
    const puts: unknown[] = [];
    const minutes: Record<string, number | null> = { breakfast: null, lunch: null };
    const answer = () => ({
      data: {
        default_minutes_per_window: 30,
        slots: Object.entries(minutes).map(([time_slot, m]) => ({
          time_slot,
          minutes_per_window: m ?? 30,
          is_default: m === null,
        })),
      },
    });
    server.use(
      http.get(API, () => HttpResponse.json(answer())),
      http.put(API, async ({ request }) => {
        const body = (await request.json()) as { time_slot: string; minutes_per_window: number | null };
        puts.push(body);
        minutes[body.time_slot] = body.minutes_per_window;
        return HttpResponse.json(answer());
      }),
    );
    renderPage(<CapacityPanel />);
    const lunch = await screen.findByRole("form", { name: "Capacity of lunch" });
    expect(within(lunch).getByText("Default now: 30")).toBeInTheDocument();
    const input = within(lunch).getByLabelText("lunch: minutes per window");
    await userEvent.type(input, "0");
    await userEvent.click(within(lunch).getByRole("button", { name: "Save" }));
    expect(await within(lunch).findByText(/Enter minutes from 1 to 1440/)).toBeInTheDocument();
    expect(puts).toEqual([]);

    await userEvent.clear(input);
    await userEvent.type(input, "45");
    await userEvent.click(within(lunch).getByRole("button", { name: "Save" }));
    const saved = await screen.findByRole("form", { name: "Capacity of lunch" });
    expect(within(saved).getByLabelText("lunch: minutes per window")).toHaveValue("45");
    expect(puts).toEqual([{ time_slot: "lunch", minutes_per_window: 45 }]);

    await userEvent.clear(within(saved).getByLabelText("lunch: minutes per window"));
    await userEvent.click(within(saved).getByRole("button", { name: "Save" }));
    await vi.waitFor(() => expect(puts).toHaveLength(2));
    const back = await screen.findByRole("form", { name: "Capacity of lunch" });
    expect(await within(back).findByText("Default now: 30")).toBeInTheDocument();
    expect(puts).toEqual([
      { time_slot: "lunch", minutes_per_window: 45 },
      { time_slot: "lunch", minutes_per_window: null },
    ]);
  });
});

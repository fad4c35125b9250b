/**
 * A station's own printer (issue 17, part 7): the admin sets it in Settings → Stations and
 * the API has it; a host the API refuses changes nothing; clearing it gives the station's
 * tickets back to the canteen's printer.
 */
import { call, staffSession } from "./support/api";
import { expect, test } from "./support/fixtures";

interface Station {
  id: string;
  name: string;
  printer_host: string | null;
  printer_port: number | null;
}

async function stationNamed(token: string, name: string): Promise<Station | undefined> {
  const floor = await call<{ stations: Station[] }>("GET", "/admin/stations", { token });
  return floor.stations.find((s) => s.name === name);
}

test.use({ allowedConsoleErrors: [/Failed to load resource.*400/] });

test("an admin sets a station's printer, is refused a bad host, and clears it again", async ({ page, signIn }) => {
  const admin = await staffSession("admin");
  const token = admin.access_token;
  // Its own name, so that no other test's station is in the way.
  const name = `Tandoor ${Date.now() % 100_000}`;
  const created = await call<Station>("POST", "/admin/stations", { token, body: { name } });
  try {
    await signIn("admin");
    await page.goto("/portal/settings");
    const row = page.locator(".stations-list li").filter({ hasText: name });
    await expect(row).toContainText("Prints on the canteen's printer");

    await row.getByRole("button", { name: `Printer of station ${name}` }).click();
    const form = row.getByRole("form", { name: `Printer of ${name}` });
    await form.getByLabel("Printer host").fill("10.0.0.8");
    await form.getByLabel("Printer port").fill("9101");
    await form.getByRole("button", { name: "Save" }).click();
    await expect(row).toContainText("Prints on 10.0.0.8:9101");
    await expect(form).toHaveCount(0);
    expect(await stationNamed(token, name)).toMatchObject({ printer_host: "10.0.0.8", printer_port: 9101 });

    // A host with a space: the API's message by the field, the station's printer as it was.
    await row.getByRole("button", { name: `Printer of station ${name}` }).click();
    await form.getByLabel("Printer host").fill("back office");
    await form.getByRole("button", { name: "Save" }).click();
    await expect(form.getByLabel("Printer host")).toHaveAttribute("aria-invalid", "true");
    await expect(form.getByRole("alert")).toContainText("Not saved; the station prints where it did.");
    await expect(row).toContainText("Prints on 10.0.0.8:9101");
    expect(await stationNamed(token, name)).toMatchObject({ printer_host: "10.0.0.8", printer_port: 9101 });

    // An empty host: back to the canteen's printer, port and all.
    await form.getByLabel("Printer host").fill("");
    await form.getByRole("button", { name: "Save" }).click();
    await expect(row).toContainText("Prints on the canteen's printer");
    expect(await stationNamed(token, name)).toMatchObject({ printer_host: null, printer_port: null });
  } finally {
    await call("DELETE", `/admin/stations/${created.id}`, { token });
  }
});

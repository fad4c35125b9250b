import { menuItem } from "@/testing/factories";

import { diff, emptyForm, formFromItem, validate } from "./item-form";

describe("the item form", () => {
  it("turns a filled form into the API body, prices in paise", () => {
    const form = {
      ...emptyForm("cat-1"),
      name: "  Paneer Roll ",
      price: "85.50",
      time_slots: ["snacks"],
      daily_stock: "40",
    };
    const { body, errors } = validate(form);
    expect(errors).toEqual({});
    expect(body).toMatchObject({
      category_id: "cat-1",
      name: "Paneer Roll",
      price: 8550,
      diet: "veg",
      time_slots: ["snacks"],
      prep_minutes: 10,
      daily_stock: 40,
      description: null,
    });
  });

  it("names every field it refuses", () => {
    const { body, errors } = validate({
      ...emptyForm(),
      price: "12.345",
      prep_minutes: "300",
      daily_stock: "-1",
      sort_order: "x",
    });
    expect(body).toBeNull();
    expect(Object.keys(errors).sort()).toEqual(
      ["category_id", "daily_stock", "name", "prep_minutes", "price", "sort_order", "time_slots"].sort(),
    );
    expect(validate({ ...emptyForm("c"), name: "x", time_slots: ["a"], price: "0" }).errors.price).toMatch(/more than/);
    expect(validate({ ...emptyForm("c"), name: "x", time_slots: ["a"], price: "10001" }).errors.price).toMatch(
      /at most/,
    );
  });

  it("sends only what changed", () => {
    const item = menuItem({ allergens: ["dairy", "gluten"], daily_stock: 20, stock_remaining: 5 });
    const form = formFromItem(item);
    expect(diff(item, validate(form).body!)).toEqual({});
    const edited = { ...form, price: "65", allergens: ["gluten" as const, "dairy" as const], daily_stock: "" };
    expect(diff(item, validate(edited).body!)).toEqual({ price: 6500, daily_stock: null });
  });
});

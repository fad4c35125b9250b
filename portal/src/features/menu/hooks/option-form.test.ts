import { menuItem } from "@/testing/factories";

import { diff, emptyForm, formFromItem, validate } from "./item-form";
import { emptyGroup, groupsFromItem, validateGroups, type GroupForm } from "./option-form";

const filling: GroupForm = {
  name: " Filling ",
  kind: "single",
  required: true,
  max_select: "",
  options: [
    { name: "Plain", price: "0", is_available: true },
    { name: "Cheese", price: "30", is_available: false },
  ],
};

describe("the item form's option groups", () => {
  it("sends each group with its rules and each option's extra price in paise", () => {
    const extras: GroupForm = {
      name: "Extras",
      kind: "multiple",
      required: false,
      max_select: "1",
      options: [
        { name: "Raita", price: "20", is_available: true },
        { name: "Egg", price: "15.50", is_available: true },
      ],
    };
    expect(validateGroups([filling, extras])).toEqual({
      body: [
        {
          name: "Filling",
          kind: "single",
          required: true,
          min_select: 1,
          max_select: 1,
          options: [
            { name: "Plain", price_delta: 0, is_available: true },
            { name: "Cheese", price_delta: 3000, is_available: false },
          ],
        },
        {
          name: "Extras",
          kind: "multiple",
          required: false,
          min_select: 0,
          max_select: 1,
          options: [
            { name: "Raita", price_delta: 2000, is_available: true },
            { name: "Egg", price_delta: 1550, is_available: true },
          ],
        },
      ],
    });
  });

  it("says what is wrong before sending anything", () => {
    expect(validateGroups([emptyGroup()]).error).toBe("Give option group 1 a name.");
    expect(validateGroups([{ ...filling, options: [] }]).error).toBe("“Filling” needs at least one option.");
    expect(validateGroups([{ ...filling, options: [filling.options[0]!, filling.options[0]!] }]).error).toBe(
      "Two options in “Filling” are called “Plain”.",
    );
    expect(validateGroups([{ ...filling, options: [{ name: "Big", price: "-5", is_available: true }] }]).error).toBe(
      "“Big” costs extra from ₹0 to ₹5,000, e.g. 20 or 15.50.",
    );
    expect(validateGroups([{ ...filling, kind: "multiple", max_select: "3" }]).error).toBe(
      "In “Filling”, choose at most 1 to 2 options.",
    );
    const form = {
      ...emptyForm("cat-1"),
      name: "Dosa",
      price: "45",
      time_slots: ["lunch"],
      option_groups: [emptyGroup()],
    };
    expect(validate(form)).toEqual({ body: null, errors: { option_groups: "Give option group 1 a name." } });
  });

  it("keeps the ids of an item's groups and sends them only when they changed", () => {
    const item = menuItem({
      option_groups: [
        {
          id: "g1",
          name: "Filling",
          kind: "single",
          required: true,
          min_select: 1,
          max_select: 1,
          options: [{ id: "o1", name: "Plain", price_delta: 0, is_available: true }],
        },
      ],
    });
    const form = formFromItem(item);
    expect(form.option_groups).toEqual(groupsFromItem(item.option_groups));
    expect(diff(item, validate(form).body!)).toEqual({});
    form.option_groups[0]!.options.push({ name: "Masala", price: "15", is_available: true });
    expect(diff(item, validate(form).body!)).toEqual({
      option_groups: [
        {
          id: "g1",
          name: "Filling",
          kind: "single",
          required: true,
          min_select: 1,
          max_select: 1,
          options: [
            { id: "o1", name: "Plain", price_delta: 0, is_available: true },
            { name: "Masala", price_delta: 1500, is_available: true },
          ],
        },
      ],
    });
  });
});

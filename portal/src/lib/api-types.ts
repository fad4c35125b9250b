/**
 * Friendly names for the generated contract (src/lib/api-schema.d.ts, made from
 * openapi.json by `npm run gen:types`). Features import their types from here, so a change
 * in the backend's schemas shows up as a type error in the build.
 */
import type { components } from "./api-schema";

type Schemas = components["schemas"];

export type UserOut = Schemas["UserOut"];
export type Role = Schemas["Role"];
export type Session = Schemas["Session"];
export type TokenPair = Schemas["TokenPair"];
export type KitchenOrder = Schemas["KitchenOrderOut"];
/** The order as its customer sees it, with `actions`: what the customer may do now. */
export type CustomerOrder = Schemas["OrderOut"];
export type CustomerAction = Schemas["CustomerAction"];
export type KitchenOrderDetail = Schemas["KitchenOrderDetail"];
export type OrderEvent = Schemas["OrderEventOut"];
export type OrderLine = Schemas["OrderLineOut"];
export type OrderStatus = Schemas["OrderStatus"];
/** The event log's wire names (the backend's one EventType enum): comparing an event's
 * `type` with anything else is a type error. */
export type EventType = Schemas["EventType"];
export type StaffTarget = Schemas["StatusChange"]["status"];
export type Category = Schemas["CategoryOut"];
export type CategoryCreate = Schemas["CategoryCreate"];
export type CategoryUpdate = Schemas["CategoryUpdate"];
export type MenuItem = Schemas["MenuItemOut"];
export type MenuItemCreate = Schemas["MenuItemCreate"];
export type MenuItemUpdate = Schemas["MenuItemUpdate"];
/** A dish's option group (half/full, filling, add-ons) and what the admin sends for one. */
export type OptionGroup = Schemas["OptionGroupOut"];
export type OptionGroupIn = Schemas["OptionGroupIn"];
/** A chosen option as an order line keeps it (its price is in the line's unit_price). */
export type OrderLineOption = Schemas["OrderLineOption"];
export type Diet = Schemas["Diet"];
export type Allergen = Schemas["Allergen"];
export type TimeSlot = Schemas["TimeSlotOut"];
export type TimeSlotCreate = Schemas["TimeSlotCreate"];
export type TimeSlotUpdate = Schemas["TimeSlotUpdate"];
export type CanteenConfig = Schemas["ConfigOut"];
export type ConfigUpdate = Schemas["ConfigUpdate"];
export type PublicConfig = Schemas["PublicConfig"];
export type StaffCreate = Schemas["StaffCreate"];
export type StaffUpdate = Schemas["StaffUpdate"];
export type PageMeta = Schemas["PageMeta"];
// Kitchen capacity per 15-minute window, per slot (issue 16).
export type KitchenCapacity = Schemas["CapacityOut"];
export type KitchenCapacityUpdate = Schemas["CapacityUpdate"];

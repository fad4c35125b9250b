import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { Button } from "@/components/Button";
import { ErrorSummary, fieldErrors } from "@/components/ErrorSummary";
import { Field } from "@/components/Field";
import { LoadError, Loading } from "@/components/States";
import { toast } from "@/components/Toasts";
import { useSession } from "@/features/auth/hooks/use-session";
import type { StaffCreate, UserOut } from "@/lib/api-types";
import { formatDateTime } from "@/lib/time";

import { createStaff, fetchStaff, updateStaff } from "../api/staff";

const ROLE_LABEL: Record<string, string> = { admin: "Admin", kitchen: "Kitchen", delivery: "Delivery" };

function NewStaffForm() {
  const queryClient = useQueryClient();
  const empty: StaffCreate = { phone: "", name: "", role: "kitchen", password: "" };
  const [form, setForm] = useState<StaffCreate>(empty);
  const [local, setLocal] = useState<Record<string, string>>({});
  const create = useMutation({
    mutationFn: () => createStaff({ ...form, name: form.name.trim(), phone: form.phone.trim() }),
    onSuccess: (user) => {
      toast(`Added ${user.name ?? user.phone} (${ROLE_LABEL[user.role] ?? user.role})`);
      setForm(empty);
      void queryClient.invalidateQueries({ queryKey: ["staff"] });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const errors: Record<string, string> = {};
    if (!form.name.trim()) errors.name = "Enter the person's name.";
    if (!form.phone.trim()) errors.phone = "Enter their phone number.";
    if (form.password.length < 8) errors.password = "At least 8 characters.";
    setLocal(errors);
    if (Object.keys(errors).length === 0) create.mutate();
  };
  const errs = (f: string) => [...(local[f] ? [local[f] as string] : []), ...fieldErrors(create.error, f)];
  return (
    <form className="card staff-form" onSubmit={submit} noValidate aria-labelledby="new-staff-title">
      <h2 id="new-staff-title">Add a staff account</h2>
      <Field label="Name" errors={errs("name")}>
        <input
          value={form.name}
          maxLength={100}
          onChange={(e) => setForm({ ...form, name: e.target.value })}
          autoComplete="off"
        />
      </Field>
      <Field label="Phone" errors={errs("phone")} hint="They sign in with this number.">
        <input
          type="tel"
          value={form.phone}
          onChange={(e) => setForm({ ...form, phone: e.target.value })}
          autoComplete="off"
        />
      </Field>
      <Field label="Role" errors={errs("role")}>
        <select value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value as StaffCreate["role"] })}>
          <option value="kitchen">Kitchen — the board and the menu switches</option>
          <option value="delivery">Delivery — their deliveries in the app</option>
          <option value="admin">Admin — everything, menu, settings and staff</option>
        </select>
      </Field>
      <Field label="Password" errors={errs("password")} hint="At least 8 characters; tell them in person.">
        <input
          type="password"
          value={form.password}
          onChange={(e) => setForm({ ...form, password: e.target.value })}
          autoComplete="new-password"
        />
      </Field>
      <ErrorSummary
        error={create.error}
        shownFields={["name", "phone", "role", "password"]}
        title={create.error ? "The account was not created." : undefined}
      />
      <Button type="submit" variant="primary" busy={create.isPending}>
        Create account
      </Button>
    </form>
  );
}

function StaffRow({ user, self }: { user: UserOut; self: boolean }) {
  const queryClient = useQueryClient();
  const toggle = useMutation({
    mutationFn: () => updateStaff(user.id, { is_active: !user.is_active }),
    onSuccess: (next) => {
      toast(`${next.name ?? next.phone} is ${next.is_active ? "active again" : "deactivated"}`);
      void queryClient.invalidateQueries({ queryKey: ["staff"] });
    },
  });
  return (
    <tr className={user.is_active ? undefined : "row-inactive"}>
      <th scope="row">
        {user.name ?? "—"}
        {self ? <span className="tag">you</span> : null}
      </th>
      <td>{user.phone}</td>
      <td>{ROLE_LABEL[user.role] ?? user.role}</td>
      <td>{user.is_active ? "Active" : "Deactivated"}</td>
      <td>{formatDateTime(user.created_at)}</td>
      <td>
        <Button
          size="sm"
          variant={user.is_active ? "ghost" : "secondary"}
          disabled={self}
          title={self ? "You cannot deactivate your own account" : undefined}
          busy={toggle.isPending}
          onClick={() => {
            if (
              !user.is_active ||
              window.confirm(`Deactivate ${user.name ?? user.phone}? They are signed out at once.`)
            ) {
              toggle.mutate();
            }
          }}
        >
          {user.is_active ? "Deactivate" : "Reactivate"}
        </Button>
        {toggle.error ? <ErrorSummary error={toggle.error} /> : null}
      </td>
    </tr>
  );
}

export function StaffPage() {
  const staff = useQuery({ queryKey: ["staff"], queryFn: fetchStaff });
  const me = useSession()?.user.id;
  return (
    <div className="page staff-page">
      <div className="page-head">
        <h1>Staff</h1>
      </div>
      <div className="staff-grid">
        <section className="card" aria-labelledby="staff-list-title">
          <h2 id="staff-list-title">Accounts</h2>
          {staff.isPending ? <Loading /> : null}
          {staff.isError ? <LoadError error={staff.error} retry={() => void staff.refetch()} /> : null}
          {staff.data ? (
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Phone</th>
                  <th scope="col">Role</th>
                  <th scope="col">Status</th>
                  <th scope="col">Added</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {staff.data.map((u) => (
                  <StaffRow key={u.id} user={u} self={u.id === me} />
                ))}
              </tbody>
            </table>
          ) : null}
        </section>
        <NewStaffForm />
      </div>
    </div>
  );
}

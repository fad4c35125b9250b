import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { Button } from "@/components/Button";
import { ErrorSummary, fieldErrors } from "@/components/ErrorSummary";
import { Field } from "@/components/Field";
import { LoadError, Loading } from "@/components/States";
import { formatDateTime } from "@/lib/time";

import { createDisplay, listDisplays, revokeDisplay, type CreatedDisplay } from "../api/display";

const KEY = ["admin", "displays"] as const;

/** The link that opens the display with its token (kept in the fragment: never sent to
 * the server in a request line or logged). */
export function displayLink(token: string): string {
  const base = import.meta.env.BASE_URL.replace(/\/$/, "");
  return `${globalThis.location.origin}${base}/display#token=${encodeURIComponent(token)}`;
}

/** Settings → Order-status displays: create a token for a counter TV (shown once), revoke one. */
export function DisplayTokensPanel() {
  const queryClient = useQueryClient();
  const displays = useQuery({ queryKey: KEY, queryFn: listDisplays });
  const [name, setName] = useState("");
  const [created, setCreated] = useState<CreatedDisplay | null>(null);
  const create = useMutation({
    mutationFn: createDisplay,
    onSuccess: (display) => {
      setCreated(display);
      setName("");
      void queryClient.invalidateQueries({ queryKey: KEY });
    },
  });
  const revoke = useMutation({
    mutationFn: revokeDisplay,
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: KEY }),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(name.trim());
  };
  return (
    <section className="card displays-panel" aria-labelledby="displays-title">
      <h2 id="displays-title">Order-status displays</h2>
      <p className="field-hint">
        A TV at the counter shows order numbers preparing and ready (no names or items). Each one signs in with its own
        token; revoke a token and its screen stops within seconds.
      </p>
      {created ? (
        <div className="notice" role="status">
          <p>
            Token for <strong>{created.name}</strong> (shown only now):
          </p>
          <code className="display-token" data-testid="display-token">
            {created.token}
          </code>
          <p>
            Open <a href={displayLink(created.token)}>the display link</a> on the TV, or enter the token at{" "}
            <code>/portal/display</code>.
          </p>
        </div>
      ) : null}
      <form onSubmit={submit} noValidate className="inline-form">
        <Field
          label="Display name"
          errors={fieldErrors(create.error, "name")}
          hint='Where it hangs, e.g. "Counter TV".'
        >
          <input value={name} maxLength={80} onChange={(e) => setName(e.target.value)} />
        </Field>
        <Button type="submit" variant="primary" busy={create.isPending} disabled={!name.trim()}>
          Create display token
        </Button>
      </form>
      <ErrorSummary error={create.error ?? revoke.error} shownFields={["name"]} />
      {displays.isPending ? <Loading /> : null}
      {displays.isError ? <LoadError error={displays.error} retry={() => void displays.refetch()} /> : null}
      {displays.data?.length ? (
        <ul className="displays-list">
          {displays.data.map((d) => (
            <li key={d.id}>
              <span>
                <strong>{d.name}</strong> <code>{d.hint}…</code>{" "}
                <span className="muted small">
                  {d.revoked_at ? `revoked ${formatDateTime(d.revoked_at)}` : `since ${formatDateTime(d.created_at)}`}
                </span>
              </span>
              {d.revoked_at ? null : (
                <Button
                  size="sm"
                  variant="danger"
                  busy={revoke.isPending && revoke.variables === d.id}
                  onClick={() => revoke.mutate(d.id)}
                >
                  Revoke {d.name}
                </Button>
              )}
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

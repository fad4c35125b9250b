import { useMutation } from "@tanstack/react-query";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { Navigate, useSearchParams } from "react-router";

import { Button } from "@/components/Button";
import { ErrorSummary, fieldErrors } from "@/components/ErrorSummary";
import { Field } from "@/components/Field";
import { unlockSound } from "@/lib/chime";
import { session } from "@/lib/session";

import { staffLogin } from "../api/auth";
import { useSession } from "../hooks/use-session";

const ENDED: Record<string, string> = {
  expired: "Your session has ended. Sign in again to carry on.",
  revoked: "You were signed out because your sign-in was used on another device. Sign in again.",
  signed_out: "You have signed out.",
};

function safeNext(next: string | null, role: string): string {
  // Only paths inside the portal: never an absolute URL someone put in a link. Without
  // one, admins land on the dashboard and the kitchen on its board.
  if (next && next.startsWith("/") && !next.startsWith("//")) return next;
  return role === "admin" ? "/dashboard" : "/board";
}

export function LoginPage() {
  const current = useSession();
  const [params] = useSearchParams();
  const [phone, setPhone] = useState("");
  const [password, setPassword] = useState("");
  const heading = useRef<HTMLHeadingElement>(null);
  const ended = session.endReason();

  useEffect(() => heading.current?.focus(), []);

  // Staff sign in with their password only: the one-time code is the students' sign-in and
  // never yields a staff role (the API answers 403 STAFF_USE_PASSWORD).
  const login = useMutation({ mutationFn: () => staffLogin(phone, password) });

  if (current) return <Navigate to={safeNext(params.get("next"), current.user.role)} replace />;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    unlockSound(); // the click that signs in also lets the board play its chime
    login.mutate();
  };

  const error = login.error;

  return (
    <main className="login" id="main">
      <div className="login-card">
        <h1 ref={heading} tabIndex={-1}>
          <span className="brand-mark" aria-hidden="true">
            C
          </span>{" "}
          Canteen kitchen
        </h1>
        {ended && ENDED[ended] ? (
          <p className="notice" role="status">
            {ENDED[ended]}
          </p>
        ) : null}
        <form onSubmit={submit} noValidate aria-describedby={error ? "login-error" : undefined}>
          <Field label="Phone number" errors={fieldErrors(error, "phone")} hint="Your staff phone, e.g. 9000000002">
            <input
              type="tel"
              name="phone"
              autoComplete="username"
              inputMode="tel"
              required
              value={phone}
              onChange={(e) => setPhone(e.target.value)}
            />
          </Field>
          <Field label="Password" errors={fieldErrors(error, "password")}>
            <input
              type="password"
              name="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </Field>
          {error ? (
            <div id="login-error">
              <ErrorSummary error={error} shownFields={["phone", "password"]} />
            </div>
          ) : null}
          <Button type="submit" variant="primary" size="lg" busy={login.isPending} className="login-submit">
            Sign in
          </Button>
        </form>
      </div>
    </main>
  );
}

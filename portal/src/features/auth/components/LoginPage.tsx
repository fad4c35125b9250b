import { useMutation } from "@tanstack/react-query";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { Navigate, useSearchParams } from "react-router";

import { Button } from "@/components/Button";
import { ErrorSummary, fieldErrors } from "@/components/ErrorSummary";
import { Field } from "@/components/Field";
import { unlockSound } from "@/lib/chime";
import { session } from "@/lib/session";

import { requestOtp, staffLogin, verifyOtp } from "../api/auth";
import { useSession } from "../hooks/use-session";

type Mode = "password" | "otp";

const ENDED: Record<string, string> = {
  expired: "Your session has ended. Sign in again to carry on.",
  revoked: "You were signed out because your sign-in was used on another device. Sign in again.",
  signed_out: "You have signed out.",
};

function safeNext(next: string | null): string {
  // Only paths inside the portal: never an absolute URL someone put in a link.
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/board";
}

export function LoginPage() {
  const current = useSession();
  const [params] = useSearchParams();
  const [mode, setMode] = useState<Mode>("password");
  const [phone, setPhone] = useState("");
  const [password, setPassword] = useState("");
  const [otp, setOtp] = useState("");
  const [otpSentTo, setOtpSentTo] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const ended = session.endReason();

  useEffect(() => heading.current?.focus(), []);

  const login = useMutation({
    mutationFn: () => (mode === "password" ? staffLogin(phone, password) : verifyOtp(phone, otp)),
  });
  const sendOtp = useMutation({
    mutationFn: () => requestOtp(phone),
    onSuccess: () => setOtpSentTo(phone),
  });

  if (current) return <Navigate to={safeNext(params.get("next"))} replace />;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    unlockSound(); // the click that signs in also lets the board play its chime
    if (mode === "otp" && !otpSentTo) sendOtp.mutate();
    else login.mutate();
  };

  const error = login.error ?? sendOtp.error;
  const switchMode = (next: Mode) => {
    setMode(next);
    login.reset();
    sendOtp.reset();
    setOtpSentTo(null);
    setOtp("");
  };

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
        <div className="segmented" role="group" aria-label="How to sign in">
          <button type="button" aria-pressed={mode === "password"} onClick={() => switchMode("password")}>
            Password
          </button>
          <button type="button" aria-pressed={mode === "otp"} onClick={() => switchMode("otp")}>
            One-time code
          </button>
        </div>
        <form onSubmit={submit} noValidate aria-describedby={error ? "login-error" : undefined}>
          <Field label="Phone number" errors={fieldErrors(error, "phone")} hint="Your staff phone, e.g. 9000000002">
            <input
              type="tel"
              name="phone"
              autoComplete="username"
              inputMode="tel"
              required
              value={phone}
              onChange={(e) => {
                setPhone(e.target.value);
                if (otpSentTo) setOtpSentTo(null);
              }}
            />
          </Field>
          {mode === "password" ? (
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
          ) : otpSentTo ? (
            <Field
              label="6-digit code"
              errors={fieldErrors(error, "otp")}
              hint={`Sent by SMS to ${otpSentTo}. It is valid for 5 minutes.`}
            >
              <input
                type="text"
                name="otp"
                inputMode="numeric"
                autoComplete="one-time-code"
                pattern="\d{6}"
                maxLength={6}
                required
                value={otp}
                onChange={(e) => setOtp(e.target.value.replace(/\D/g, ""))}
              />
            </Field>
          ) : null}
          {error ? (
            <div id="login-error">
              <ErrorSummary error={error} shownFields={["phone", "password", "otp"]} />
            </div>
          ) : null}
          <Button
            type="submit"
            variant="primary"
            size="lg"
            busy={login.isPending || sendOtp.isPending}
            className="login-submit"
          >
            {mode === "password" ? "Sign in" : otpSentTo ? "Verify and sign in" : "Send code"}
          </Button>
          {mode === "otp" && otpSentTo ? (
            <Button variant="ghost" onClick={() => sendOtp.mutate()} busy={sendOtp.isPending}>
              Send a new code
            </Button>
          ) : null}
        </form>
      </div>
    </main>
  );
}

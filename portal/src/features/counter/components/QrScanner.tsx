import { useEffect, useRef, useState } from "react";

import { Button } from "@/components/Button";

import { codeFromScan } from "../api/counter";

/** The camera reads the QR code the student's app shows beside the digits. */
export function QrScanner({ onCode, onClose }: { onCode: (code: string) => void; onClose: () => void }) {
  const video = useRef<HTMLVideoElement>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const latest = useRef(onCode);
  latest.current = onCode;

  useEffect(() => {
    let stop: (() => void) | undefined;
    let closed = false;
    // Loaded only when the camera is opened: a counter that types codes never pays for it.
    import("@zxing/browser")
      .then(async ({ BrowserQRCodeReader }) => {
        if (closed || !video.current) return;
        const controls = await new BrowserQRCodeReader().decodeFromVideoDevice(undefined, video.current, (result) => {
          const code = result ? codeFromScan(result.getText()) : null;
          if (code) latest.current(code);
        });
        stop = () => controls.stop();
        if (closed) stop();
      })
      .catch(() => {
        if (!closed) setProblem("The camera is not available here. Type the 4-digit code instead.");
      });
    return () => {
      closed = true;
      stop?.();
    };
  }, []);

  return (
    <div className="counter-scanner">
      {problem ? (
        <p role="alert" className="counter-error">
          {problem}
        </p>
      ) : (
        <video ref={video} className="counter-video" muted playsInline aria-label="Camera view for the QR code" />
      )}
      <Button variant="ghost" onClick={onClose}>
        Close camera
      </Button>
    </div>
  );
}

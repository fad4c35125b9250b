import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState } from "react";

import { Button } from "@/components/Button";
import { ErrorSummary } from "@/components/ErrorSummary";
import { toast } from "@/components/Toasts";
import type { MenuItem } from "@/lib/api-types";

import { removeImage, uploadImage } from "../api/menu";
import { menuKeys } from "../hooks/use-menu";
import { IMAGE_MAX_BYTES, IMAGE_TYPES } from "../types";

/** Choose a photo, see it, upload it; the item's other fields are saved separately. */
export function ImageUploader({ item }: { item: MenuItem }) {
  const queryClient = useQueryClient();
  const inputId = useId();
  const input = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState<File | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    if (!file) {
      setPreview(null);
      return;
    }
    const url = URL.createObjectURL(file);
    setPreview(url);
    return () => URL.revokeObjectURL(url);
  }, [file]);

  const saved = (next: MenuItem) => {
    queryClient.setQueryData(menuKeys.item(next.id), next);
    void queryClient.invalidateQueries({ queryKey: ["menu", "items"] });
  };
  const upload = useMutation({
    mutationFn: (chosen: File) => uploadImage(item.id, chosen),
    onSuccess: (next) => {
      saved(next);
      setFile(null);
      if (input.current) input.current.value = "";
      toast("Photo uploaded");
    },
  });
  const remove = useMutation({
    mutationFn: () => removeImage(item.id),
    onSuccess: (next) => {
      saved(next);
      toast("Photo removed");
    },
  });

  const choose = (chosen: File | undefined) => {
    upload.reset();
    setProblem(null);
    if (!chosen) return setFile(null);
    if (!IMAGE_TYPES.includes(chosen.type)) {
      setFile(null);
      setProblem("Choose a JPEG, PNG or WebP image.");
      return;
    }
    if (chosen.size > IMAGE_MAX_BYTES) {
      setFile(null);
      setProblem(`That image is ${(chosen.size / 2 ** 20).toFixed(1)} MB; the limit is 5 MB.`);
      return;
    }
    setFile(chosen);
  };

  const shown = preview ?? item.image_url;
  return (
    <section className="card image-card" aria-labelledby="photo-title">
      <h2 id="photo-title">Photo</h2>
      <div className="image-frame">
        {shown ? (
          <img
            src={shown}
            alt={preview ? `Preview of the new photo for ${item.name}` : `Current photo of ${item.name}`}
          />
        ) : (
          <p className="muted">No photo yet.</p>
        )}
        {preview ? <span className="tag tag-warn image-badge">Preview — not uploaded yet</span> : null}
      </div>
      <div className="field">
        <label htmlFor={inputId}>Choose a photo</label>
        <input
          ref={input}
          id={inputId}
          type="file"
          accept={IMAGE_TYPES.join(",")}
          aria-describedby={`${inputId}-hint`}
          onChange={(e) => choose(e.target.files?.[0])}
        />
        <p className="field-hint" id={`${inputId}-hint`}>
          JPEG, PNG or WebP, up to 5 MB. It is resized for the app.
        </p>
        {problem ? (
          <p className="field-error" role="alert">
            {problem}
          </p>
        ) : null}
      </div>
      <ErrorSummary error={upload.error ?? remove.error} />
      <div className="form-actions">
        <Button variant="primary" disabled={!file} busy={upload.isPending} onClick={() => file && upload.mutate(file)}>
          Upload photo
        </Button>
        {item.image_url && !file ? (
          <Button variant="ghost" busy={remove.isPending} onClick={() => remove.mutate()}>
            Remove photo
          </Button>
        ) : null}
        {file ? (
          <Button
            variant="ghost"
            onClick={() => {
              setFile(null);
              if (input.current) input.current.value = "";
            }}
          >
            Discard
          </Button>
        ) : null}
      </div>
    </section>
  );
}

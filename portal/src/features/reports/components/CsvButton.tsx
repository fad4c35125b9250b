import { useMutation } from "@tanstack/react-query";

import { Button } from "@/components/Button";
import { ErrorSummary } from "@/components/ErrorSummary";

import { downloadCsv } from "../api/reports";

/** Download the CSV of what is on screen (same range, grouping and filter). */
export function CsvButton({ path, label = "Download CSV" }: { path: string; label?: string }) {
  const download = useMutation({ mutationFn: () => downloadCsv(path) });
  return (
    <div className="csv-button">
      <Button onClick={() => download.mutate()} busy={download.isPending}>
        {label}
      </Button>
      {download.error ? <ErrorSummary error={download.error} title="The CSV was not downloaded." /> : null}
    </div>
  );
}

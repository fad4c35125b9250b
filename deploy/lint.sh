#!/usr/bin/env bash
# Lints the deployment files offline (run by scripts/test.sh). Images cannot be built on
# the development machines (no Docker engine); what runs instead is scripts/prod-like.sh
# and its end-to-end test, on the same nginx configuration and the same commands.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
echo "==> hadolint Dockerfile"
"$BIN/hadolint" Dockerfile
echo "==> compose spec schema: deploy/compose.yaml"
"$BIN/check-jsonschema" --builtin-schema vendor.compose-spec deploy/compose.yaml
echo "==> kubernetes-validate deploy/k8s (strict: unknown fields are errors)"
"$BIN/kubernetes-validate" --strict --quiet deploy/k8s/*.yaml
echo "==> monitoring: alert rules and dashboard parse, and name only metrics we export"
"$BIN/python" - <<'PY'
import json, re, sys
from pathlib import Path
import yaml
from canteen.observability import metrics

exported = set()
for value in vars(metrics).values():
    name = getattr(value, "_name", None)
    kind = getattr(value, "_type", None)
    if isinstance(name, str) and name.startswith("canteen_"):
        exported.add(name)
        if kind == "counter":
            exported.add(name + "_total")
        if kind == "histogram":
            exported |= {name + "_bucket", name + "_count", name + "_sum"}
from canteen.observability.worker import JOBS_METRIC

exported.add(JOBS_METRIC + "_total")
rules = yaml.safe_load(Path("deploy/monitoring/alerts.yaml").read_text())
exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
alerts = {r.get("alert") for g in rules["groups"] for r in g["rules"]} - {None}
dashboard = json.loads(Path("deploy/monitoring/grafana-dashboard.json").read_text())
exprs += [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
unknown = {m for e in exprs for m in re.findall(r"\bcanteen_[a-z_]+", e)} - exported
if unknown:
    sys.exit(f"deploy/monitoring names metrics that canteen does not export: {sorted(unknown)}")
print(f"{len(alerts)} alerts, {len(dashboard['panels'])} panels, all metrics known")
PY

#!/usr/bin/env bash
# Regenerates fuzz/corpus/fuzz_decode: real topic messages (protoc --encode from text format)
# framed as fuzz_decode reads them: flags(1) length(2, LE) value. Needs protoc and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
P=proto
OUT=fuzz/corpus/fuzz_decode
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
enc() { protoc -I "$P" --encode="aiops.v1.$1" "aiops/v1/$2.proto" >"$TMP/$3.bin"; }

ENV='envelope { remediation_id: "rem-dc70df9a851a4d23ceb1" cluster: "kube-sim"
  trace_id: "0123456789abcdef0123456789abcdef" schema_version: 1 producer: "seed"
  times { detected { seconds: 1795000000 } } }'
W='workload { api_version: "apps/v1" kind: "Deployment" namespace: "shop" name: "cart" uid: "uid-shop-cart" }'
ACT='id: "a1" type: TYPE_SERVER_SIDE_APPLY
  target { api_version: "apps/v1" kind: "Deployment" namespace: "shop" name: "cart" }
  patch: "{\"spec\":{\"replicas\":2}}" description: "scale"'

enc Anomaly anomaly anomaly <<<"$ENV status: STATUS_OPEN failure_class: FAILURE_CLASS_CRASH_LOOP
  reason: \"CrashLoopBackOff\" message: \"back-off\" $W container: \"cart\" affected_pods: 1
  sample_pods: \"cart-1\" first_seen { seconds: 1795000000 } incident_key: \"k\"
  workload_generation: 1 workload_resource_version: \"4711\""
enc Evidence evidence evidence <<<"$ENV anomaly { $ENV status: STATUS_OPEN
  failure_class: FAILURE_CLASS_CRASH_LOOP $W } workload_json: \"{\\\"kind\\\":\\\"Deployment\\\"}\"
  workload_generation: 1 workload_resource_version: \"4711\""
enc Proposal proposal proposal <<<"$ENV summary: \"s\" root_cause: \"r\"
  reasoning { observation: \"o\" thought: \"t\" } actions { $ACT } rollback_actions { $ACT }
  risk: RISK_LEVEL_LOW confidence: 0.9 source { kind: KIND_RUNBOOK runbook_id: \"crashloop\" }
  failure_class: FAILURE_CLASS_CRASH_LOOP $W evidence_resource_version: \"4711\""
enc Decision decision decision <<<"$ENV verdict: VERDICT_APPROVED actor: \"alice\" comment: \"ok\"
  policy: \"manual\" actions { $ACT } approvals { actor: \"alice\" at { seconds: 1795000100 } }
  $W expected_resource_version: \"4711\" decided_at { seconds: 1795000100 }"
enc Decision decision reject <<<"$ENV verdict: VERDICT_REJECTED actor: \"bob\"
  decided_at { seconds: 1795000100 }"
enc ExecutionResult execution execution <<<"$ENV status: STATUS_VERIFIED steps { kind: KIND_APPLY
  action_id: \"a1\" outcome: OUTCOME_SUCCEEDED message: \"applied\" started { seconds: 1795000200 } }
  reason: \"healthy\""
enc ExecutionResult execution rolledback <<<"$ENV status: STATUS_ROLLED_BACK
  steps { kind: KIND_ROLLBACK outcome: OUTCOME_SUCCEEDED } captured_rollback: \"{}\""

python3 - "$TMP" "$OUT" <<'EOF'
import os, struct, sys
tmp, out = sys.argv[1], sys.argv[2]
m = {n[:-4]: open(os.path.join(tmp, n), 'rb').read() for n in os.listdir(tmp)}
# topic index: 0 anomalies .. 4 executions; 8 = key from the envelope, 16 = right type header
def rec(topic, name, flags=8 | 16):
    return bytes([topic | flags]) + struct.pack('<H', len(m[name])) + m[name]
seeds = {
    'anomaly': rec(0, 'anomaly'), 'evidence': rec(1, 'evidence'), 'proposal': rec(2, 'proposal'),
    'decision': rec(3, 'decision'), 'execution': rec(4, 'execution'),
    'lifecycle-verified': rec(0, 'anomaly') + rec(1, 'evidence') + rec(2, 'proposal') +
        rec(3, 'decision') + rec(4, 'execution'),
    'lifecycle-rejected-then-approved': rec(0, 'anomaly') + rec(2, 'proposal') +
        rec(3, 'reject') + rec(3, 'decision') + rec(4, 'rolledback'),
    'wrong-key-and-header': rec(0, 'anomaly', 32) + rec(2, 'proposal', 0),
}
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    open(os.path.join(out, name + '.bin'), 'wb').write(data)
EOF
echo "make-decode-seeds: wrote $(ls "$OUT" | wc -l) seeds to $OUT"

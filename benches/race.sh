#!/usr/bin/env bash
# Race careweek against the reference peers of ../shared/refbench (see its README.md).
#
#   benches/race.sh [--sizes "30 100 300 1000 3000"] [--g5-sizes "100"] [--seed 1] [--time 60]
#                   [--only careweek|peers] [--peers "greedy cpsat ..."] [--timeout 400] [--fresh]
#
# Run from anywhere; everything happens in the project root and all output goes to
# target/rb/ (gitignored):
#   target/rb/nN.json, nNg5.json          instances (gen.py; "_sS" is appended when --seed is not 1)
#   target/rb/INST/PEER.{json,log,time,check}   solution, solver log, /usr/bin/time -v report, check.py
#   target/rb/peers.jsonl                 one JSON line per run (appended; --fresh truncates it first)
#   target/rb/peers.md                    summary tables, regenerated after every run (latest run wins)
#
# Runs are strictly sequential (one solver at a time), instance by instance, smallest first.
# Every run is `timeout T /usr/bin/time -v CMD`; check.py verifies the solution and recomputes the
# objective. A peer whose python package (or JDK 17+) is missing is skipped with a message.
#
# Environment: CAREWEEK_BIN and CW_NAME (see below), REFBENCH (kit folder, default ../shared/refbench), PY (python with ortools,
# highspy, optapy; default python3), TF_PY (python of the timefold venv, default
# target/rb/tf/bin/python; create it with
#   python3 -m venv target/rb/tf && target/rb/tf/bin/pip install timefold==1.24.0b0).
# Installs: pip install ortools highspy optapy==9.37.0b0; apt-get install -y openjdk-17-jre-headless time
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1

SIZES="30 100 300 1000 3000"
G5_SIZES="100"
SEED=1
TLIM=60
ONLY=all
PEERS="greedy cpsat cpsat_hint milp optapy optapy_hint timefold timefold_hint"
TIMEOUT=400
FRESH=0
KIT="${REFBENCH:-$ROOT/../shared/refbench}"
PY="${PY:-python3}"
TF_PY="${TF_PY:-$ROOT/target/rb/tf/bin/python}"
OUT="$ROOT/target/rb"
JSONL="$OUT/peers.jsonl"
MD="$OUT/peers.md"
# The careweek binary raced and its column name: e.g. CAREWEEK_BIN=target/highs/release/careweek
# CW_NAME=careweek_highs for a build with `--features highs --target-dir target/highs`.
CAREWEEK="${CAREWEEK_BIN:-$ROOT/target/release/careweek}"
CW_NAME="${CW_NAME:-careweek}"

usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
    case "$1" in
        --sizes) SIZES="$2"; shift 2 ;;
        --g5-sizes) G5_SIZES="$2"; shift 2 ;;
        --seed) SEED="$2"; shift 2 ;;
        --time) TLIM="$2"; shift 2 ;;
        --only) ONLY="$2"; shift 2 ;;
        --peers) PEERS="$2"; shift 2 ;;
        --timeout) TIMEOUT="$2"; shift 2 ;;
        --fresh) FRESH=1; shift ;;
        -h|--help) usage 0 ;;
        *) echo "unknown option: $1" >&2; usage 2 ;;
    esac
done
case "$ONLY" in all|careweek|peers) ;; *) echo "--only takes careweek or peers" >&2; exit 2 ;; esac

log() { printf '[race %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

[ -f "$KIT/check.py" ] || { log "refbench kit not found at $KIT (set REFBENCH)"; exit 1; }
KIT="$(cd "$KIT" && pwd)"
command -v "$PY" >/dev/null || { log "no $PY"; exit 1; }
[ -x /usr/bin/time ] || { log "/usr/bin/time missing (apt-get install -y time)"; exit 1; }
mkdir -p "$OUT"
[ "$FRESH" = 1 ] && : >"$JSONL"

# --- what is installed ---------------------------------------------------------------
has_module() { "$1" -c "import $2" >/dev/null 2>&1; }
java_ok() {
    local v
    v="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)"
    [ -n "$v" ] && [ "$v" -ge 17 ]
}
# prints why PEER cannot run, or nothing
missing() {
    case "$1" in
        greedy) ;;
        cpsat*) has_module "$PY" ortools.sat.python.cp_model || echo "python package ortools missing ($PY)" ;;
        milp) has_module "$PY" highspy || echo "python package highspy missing ($PY)" ;;
        optapy*)
            if ! has_module "$PY" optapy; then echo "python package optapy==9.37.0b0 missing ($PY)"
            elif ! java_ok; then echo "no JDK 17+ (apt-get install -y openjdk-17-jre-headless)"; fi ;;
        timefold*)
            if [ ! -x "$TF_PY" ] || ! has_module "$TF_PY" timefold.solver; then echo "timefold venv missing ($TF_PY)"
            elif ! java_ok; then echo "no JDK 17+ (apt-get install -y openjdk-17-jre-headless)"; fi ;;
        *) echo "unknown peer" ;;
    esac
}

# --- records ----------------------------------------------------------------------------
# record INST PEER STATUS WALL RSS_MB SOLUTION CHECKFILE NOTE [CAREWEEK_JSON]
record() {
    INST="$1" PEER="$2" STATUS="$3" WALL="$4" RSS="$5" SOL="$6" CHK="$7" NOTE="$8" OURS="${9:-}" \
        TLIM="$TLIM" SEED="$SEED" JSONL="$JSONL" python3 - <<'EOF'
import json, os, re, time
e = os.environ
def num(s):
    try:
        return float(s) if s not in ("", None) else None
    except ValueError:
        return None
rec = dict(instance=e["INST"], peer=e["PEER"], wall_s=num(e["WALL"]), peak_rss_mb=num(e["RSS"]),
           verdict=None, objective=None, status=e["STATUS"], note=e["NOTE"])
chk = e["CHK"]
if chk and os.path.exists(chk):
    text = open(chk).read()
    m = re.search(r"^verdict: (.*)$", text, re.M)
    rec["verdict"] = m.group(1).strip() if m else "CHECK_ERROR: " + text.strip()[-300:]
    m = re.search(r"objective (\d+)", text)
    rec["objective"] = int(m.group(1)) if m else None
    m = re.search(r"^scheduled (\d+/\d+)", text, re.M)
    rec["scheduled"] = m.group(1) if m else None
sol = e["SOL"]
if sol and os.path.exists(sol):
    try:
        s = json.load(open(sol))
        rec["reported"] = {k: s.get(k) for k in ("status", "objective", "bound", "dropped", "solve_s") if k in s}
    except ValueError:
        pass
if e.get("OURS") and os.path.exists(e["OURS"]):
    o = json.load(open(e["OURS"]))
    obj = o.get("objective")
    rec["ours_objective"] = obj.get("total") if isinstance(obj, dict) else obj
    rec["bound"], rec["gap"] = o.get("bound"), o.get("gap")
rec.update(time_limit_s=num(e["TLIM"]), seed=int(e["SEED"]), at=time.strftime("%Y-%m-%dT%H:%M:%S"))
with open(e["JSONL"], "a") as f:
    f.write(json.dumps(rec) + "\n")
print(f"  -> {rec['peer']}: {rec['status']}  verdict {rec['verdict']}  objective {rec['objective']}  "
      f"wall {rec['wall_s']} s  rss {rec['peak_rss_mb']} MB")
EOF
}

# peers.md from peers.jsonl: the latest record of each (instance, peer)
summary() {
    JSONL="$JSONL" MD="$MD" python3 - <<'EOF'
import json, os, re
recs = {}
for line in open(os.environ["JSONL"]):
    if line.strip():
        r = json.loads(line)
        recs[r["instance"], r["peer"]] = r
order = ["greedy", "cpsat", "cpsat_hint", "milp", "optapy", "optapy_hint", "timefold", "timefold_hint", "careweek"]
peers = [p for p in order if any(k[1] == p for k in recs)] + sorted({k[1] for k in recs} - set(order))
def ikey(i):
    m = re.match(r"n(\d+)(.*)", i)
    return (int(m.group(1)), m.group(2)) if m else (10 ** 9, i)
insts = sorted({k[0] for k in recs}, key=ikey)
def f(x, d=0):
    return "-" if x is None else f"{x:.{d}f}"
def cell(r):
    if r is None:
        return ""
    if r["status"] != "ok" or r["objective"] is None:
        return f"**{r['status']}** ({f(r['wall_s'])} s)"
    mark = "" if r["verdict"] == "FEASIBLE" else " **INFEASIBLE**"
    return f"{r['objective']} · {f(r['wall_s'], 1)} s · {f(r['peak_rss_mb'])} MB{mark}"
out = ["# refbench race", "",
       "Cell: check.py objective (lower is better) · wall s · peak RSS MB. "
       "Latest run of each instance/peer; details in peers.jsonl.", "",
       "| instance | " + " | ".join(peers) + " |", "|---" * (len(peers) + 1) + "|"]
for i in insts:
    out.append(f"| {i} | " + " | ".join(cell(recs.get((i, p))) for p in peers) + " |")
out += ["", "| instance | peer | status | verdict | objective | scheduled | bound | wall s | RSS MB | note |",
        "|---|---|---|---|---|---|---|---|---|---|"]
for i in insts:
    for p in peers:
        r = recs.get((i, p))
        if r is None:
            continue
        rep = r.get("reported") or {}
        bound = r.get("bound", rep.get("bound"))
        note = (r.get("note") or "").replace("|", "/").replace("\n", " ")[:160]
        if r.get("gap") is not None:
            note = f"gap {r['gap']}; " + note
        out.append(f"| {i} | {p} | {r['status']} | {r['verdict'] or '-'} | {f(r['objective'])} | "
                   f"{r.get('scheduled') or '-'} | {'-' if bound is None else round(bound)} | {f(r['wall_s'], 1)} | "
                   f"{f(r['peak_rss_mb'])} | {note} |")
open(os.environ["MD"], "w").write("\n".join(out) + "\n")
EOF
}

# --- one measured run ----------------------------------------------------------------
# run_measured INST PEER SOLUTION [CAREWEEK_JSON] -- CMD...
run_measured() {
    local inst="$1" peer="$2" sol="$3" ours="$4"
    shift 5
    local dir="$OUT/$inst"
    local lg="$dir/$peer.log" tm="$dir/$peer.time" ck="$dir/$peer.check"
    mkdir -p "$dir"
    rm -f "$sol" "$tm" "$ck" ${ours:+"$ours"}
    log "$inst $peer: $*"
    local t0 t1 rc
    t0="$(date +%s.%N)"
    timeout -k 15 "$TIMEOUT" /usr/bin/time -v -o "$tm" "$@" >"$lg" 2>&1
    rc=$?
    t1="$(date +%s.%N)"
    local wall rss status note=""
    wall="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
    rss=""
    if [ -s "$tm" ]; then
        # "Elapsed (wall clock) time (h:mm:ss or m:ss): 1:05.23"
        wall="$(sed -n 's/.*Elapsed (wall clock) time.*: //p' "$tm" |
            awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }')"
        rss="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tm" | awk '{ printf "%.1f", $1 / 1024 }')"
    fi
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        status=timeout
        note="killed after ${TIMEOUT} s; log tail: $(tail -n 3 "$lg" | tr '\n' ' ')"
    elif [ "$rc" -ne 0 ] || [ ! -s "$sol" ]; then
        status=failed
        note="exit $rc; log tail: $(grep -v '^\s*$' "$lg" | tail -n 5 | tr '\n' ' ')"
    else
        status=ok
        note="$(grep -E '^(status|best score)' "$lg" | tr '\n' ' ')"
    fi
    if [ -s "$sol" ]; then
        "$PY" "$KIT/check.py" "$INSTF" "$sol" --quiet >"$ck" 2>&1
    fi
    record "$inst" "$peer" "$status" "$wall" "$rss" "$sol" "$ck" "$note" "$ours"
    summary
}

run_peer() {
    local inst="$1" peer="$2" why
    local sol="$OUT/$inst/$peer.json" greedy="$OUT/$inst/greedy.json"
    why="$(missing "$peer")"
    if [ -n "$why" ]; then
        log "$inst $peer: SKIPPED: $why"
        return
    fi
    local hint=()
    case "$peer" in *_hint)
        if [ ! -s "$greedy" ]; then log "$inst $peer: SKIPPED: no greedy solution to hint with"; return; fi
        hint=(--hint "$greedy") ;;
    esac
    case "$peer" in
        greedy) run_measured "$inst" "$peer" "$sol" "" -- "$PY" "$KIT/greedy.py" "$INSTF" --out "$sol" ;;
        cpsat*) run_measured "$inst" "$peer" "$sol" "" -- "$PY" "$KIT/cpsat.py" "$INSTF" --time "$TLIM" \
            --workers 2 "${hint[@]}" --out "$sol" ;;
        milp) run_measured "$inst" "$peer" "$sol" "" -- "$PY" "$KIT/milp.py" "$INSTF" --time "$TLIM" \
            --threads 2 --out "$sol" ;;
        optapy*) run_measured "$inst" "$peer" "$sol" "" -- "$PY" "$KIT/optapy_model.py" "$INSTF" \
            --time "$TLIM" "${hint[@]}" --out "$sol" ;;
        timefold*) run_measured "$inst" "$peer" "$sol" "" -- "$TF_PY" "$KIT/timefold_model.py" "$INSTF" \
            --time "$TLIM" "${hint[@]}" --out "$sol" ;;
    esac
}

run_careweek() {
    local inst="$1"
    local ours="$OUT/$inst/${CW_NAME}_full.json" sol="$OUT/$inst/$CW_NAME.json"
    run_measured "$inst" "$CW_NAME" "$sol" "$ours" -- "$CAREWEEK" solve "$INSTF" \
        --time-limit "$TLIM" --threads 2 --quiet -o "$ours" --refbench-out "$sol"
}

# --- main ------------------------------------------------------------------------------
if [ "$ONLY" != peers ] && [ -z "${CAREWEEK_BIN:-}" ]; then
    log "cargo build --release"
    if ! cargo build --release >&2; then
        log "cargo build failed: careweek is not raced"
        [ "$ONLY" = careweek ] && exit 1
        ONLY=peers
    fi
fi

# instances, smallest first; the grid-5 variant right after its size
INSTANCES=()
for n in $(echo "$SIZES $G5_SIZES" | tr -s ' ' '\n' | sort -n -u); do
    sfx=""
    [ "$SEED" != 1 ] && sfx="_s$SEED"
    for g in 15 5; do
        if [ "$g" = 15 ]; then
            case " $SIZES " in *" $n "*) ;; *) continue ;; esac
            name="n$n$sfx"
        else
            case " $G5_SIZES " in *" $n "*) ;; *) continue ;; esac
            name="n${n}g5$sfx"
        fi
        if [ ! -s "$OUT/$name.json" ]; then
            log "gen.py --patients $n --seed $SEED --grid $g -> $name.json"
            "$PY" "$KIT/gen.py" --patients "$n" --seed "$SEED" --grid "$g" --out "$OUT/$name.json" >&2 ||
                { log "gen.py failed for $name"; continue; }
        fi
        INSTANCES+=("$name")
    done
done

for inst in "${INSTANCES[@]}"; do
    INSTF="$OUT/$inst.json"
    log "=== $inst"
    if [ "$ONLY" != careweek ]; then
        for peer in $PEERS; do
            run_peer "$inst" "$peer"
        done
    fi
    if [ "$ONLY" != peers ]; then
        run_careweek "$inst"
    fi
done
log "done: $JSONL, $MD"
